#include "resp/writer.h"

#include <charconv>
#include <cstring>

namespace ringd::resp {
namespace {

// "<prefix><n>\r\n" without going through iostreams or a temporary string.
template <typename Int>
void append_prefixed_number(std::string& out, char prefix, Int n) {
  char buf[32];
  buf[0] = prefix;
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
  (void)ec;  // 30 bytes always fit a 64-bit integer
  *end++ = '\r';
  *end++ = '\n';
  out.append(buf, static_cast<std::size_t>(end - buf));
}

}  // namespace

void append_simple(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 3);
  out.push_back('+');
  out.append(s);
  out.append("\r\n", 2);
}

void append_error(std::string& out, std::string_view msg) {
  out.reserve(out.size() + msg.size() + 3);
  out.push_back('-');
  const std::size_t start = out.size();
  out.append(msg);
  for (std::size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
  }
  out.append("\r\n", 2);
}

void append_integer(std::string& out, std::int64_t n) {
  append_prefixed_number(out, ':', n);
}

void append_bulk(std::string& out, std::string_view data) {
  if (data.size() < 100) {
    // A short reply (an endpoint) is assembled on the stack and appended
    // with one copy.
    char buf[128];
    std::size_t n = 0;
    buf[n++] = '$';
    if (data.size() >= 10) buf[n++] = static_cast<char>('0' + data.size() / 10);
    buf[n++] = static_cast<char>('0' + data.size() % 10);
    buf[n++] = '\r';
    buf[n++] = '\n';
    std::memcpy(buf + n, data.data(), data.size());
    n += data.size();
    buf[n++] = '\r';
    buf[n++] = '\n';
    out.append(buf, n);
    return;
  }
  out.reserve(out.size() + data.size() + 24);
  append_prefixed_number(out, '$', data.size());
  out.append(data);
  out.append("\r\n", 2);
}

void append_nil(std::string& out) { out.append("$-1\r\n", 5); }

void append_array_header(std::string& out, std::size_t n) {
  append_prefixed_number(out, '*', n);
}

void append_null(std::string& out, int proto) {
  if (proto >= 3) {
    out.append("_\r\n", 3);
  } else {
    append_nil(out);
  }
}

void append_null_array(std::string& out, int proto) {
  if (proto >= 3) {
    out.append("_\r\n", 3);
  } else {
    out.append("*-1\r\n", 5);
  }
}

void append_map_header(std::string& out, std::size_t n, int proto) {
  if (proto >= 3) {
    append_prefixed_number(out, '%', n);
  } else {
    append_prefixed_number(out, '*', 2 * n);
  }
}

void append_set_header(std::string& out, std::size_t n, int proto) {
  append_prefixed_number(out, proto >= 3 ? '~' : '*', n);
}

void append_verbatim(std::string& out, std::string_view text, int proto) {
  if (proto < 3) {
    append_bulk(out, text);
    return;
  }
  append_prefixed_number(out, '=', text.size() + 4);
  out.append("txt:", 4);
  out.append(text);
  out.append("\r\n", 2);
}

}  // namespace ringd::resp
