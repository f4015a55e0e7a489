#include "resp/parser.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace ringd::resp {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// a + b, saturating (limits may be configured as SIZE_MAX).
std::size_t sat_add(std::size_t a, std::size_t b) {
  return a > std::numeric_limits<std::size_t>::max() - b
             ? std::numeric_limits<std::size_t>::max()
             : a + b;
}

// isspace() in the C locale, which sdssplitargs uses between tokens.
bool is_c_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

}  // namespace

bool parse_redis_int(std::string_view s, std::int64_t& value) {
  // string2ll: rejects "", more than 20 chars, '+', leading zeros, "-0",
  // spaces and anything after the digits.
  if (s.empty() || s.size() >= 21) return false;
  if (s.size() == 1 && s[0] == '0') {
    value = 0;
    return true;
  }
  std::size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative && ++i == s.size()) return false;
  if (s[i] < '1' || s[i] > '9') return false;
  std::uint64_t v = static_cast<std::uint64_t>(s[i++] - '0');
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const auto digit = static_cast<std::uint64_t>(s[i] - '0');
    if (v > kMax / 10) return false;
    v *= 10;
    if (v > kMax - digit) return false;
    v += digit;
  }
  constexpr auto kLlMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (v > kLlMax + 1) return false;
    value = v == kLlMax + 1 ? std::numeric_limits<std::int64_t>::min()
                            : -static_cast<std::int64_t>(v);
  } else {
    if (v > kLlMax) return false;
    value = static_cast<std::int64_t>(v);
  }
  return true;
}

Parser::Parser(const Limits& limits) : limits_(limits) { spans_.reserve(8); }

void Parser::reset() {
  state_ = State::kStart;
  error_ = ParseError::kNone;
  error_text_.clear();
  spans_.clear();
  arena_.clear();
  args_.clear();
}

void Parser::start_line(std::size_t pos) {
  pos_ = pos;
  scan_ = pos;
  nul_seen_ = false;
}

Parser::Step Parser::fail(ParseError e, char got) {
  state_ = State::kError;
  error_ = e;
  switch (e) {
    case ParseError::kInvalidMultibulkLength:
      error_text_ = "ERR Protocol error: invalid multibulk length";
      break;
    case ParseError::kInvalidBulkLength:
      error_text_ = "ERR Protocol error: invalid bulk length";
      break;
    case ParseError::kExpectedDollar:
      error_text_ = "ERR Protocol error: expected '$', got '";
      error_text_.push_back(got);
      error_text_.push_back('\'');
      break;
    case ParseError::kTooBigInline:
      error_text_ = "ERR Protocol error: too big inline request";
      break;
    case ParseError::kTooBigMbulkCount:
      error_text_ = "ERR Protocol error: too big mbulk count string";
      break;
    case ParseError::kTooBigBulkCount:
      error_text_ = "ERR Protocol error: too big bulk count string";
      break;
    case ParseError::kUnbalancedQuotes:
      error_text_ = "ERR Protocol error: unbalanced quotes in request";
      break;
    case ParseError::kUnauthMultibulkLength:
      error_text_ = "ERR Protocol error: unauthenticated multibulk length";
      break;
    case ParseError::kUnauthBulkLength:
      error_text_ = "ERR Protocol error: unauthenticated bulk length";
      break;
    case ParseError::kQueryBufferLimit:
    case ParseError::kNone:
      error_text_.clear();
      break;
  }
  return Step::kError;
}

std::size_t Parser::find_line_end(std::string_view cmd, char term) {
  if (nul_seen_) return kNpos;
  const std::size_t end = std::min(cmd.size(), sat_add(pos_, sat_add(limits_.max_inline_len, 1)));
  if (scan_ >= end) return kNpos;
  // Header lines ("*2", "$3") are a few bytes: a plain loop over the first
  // ones costs less than the two memchr() calls below.
  const std::size_t quick_end = std::min(end, scan_ + 32);
  for (std::size_t i = scan_; i < quick_end; ++i) {
    const char c = cmd[i];
    if (c == term) {
      scan_ = i;
      return i;
    }
    if (c == '\0') {
      nul_seen_ = true;
      return kNpos;
    }
  }
  scan_ = quick_end;
  if (scan_ >= end) return kNpos;
  const char* p = cmd.data() + scan_;
  const std::size_t n = end - scan_;
  const auto* hit = static_cast<const char*>(std::memchr(p, term, n));
  const std::size_t upto = hit != nullptr ? static_cast<std::size_t>(hit - p) : n;
  if (std::memchr(p, '\0', upto) != nullptr) {
    // strchr() stops at the NUL: Redis will never see this line's end.
    nul_seen_ = true;
    return kNpos;
  }
  scan_ += upto;  // on a hit, stays on the terminator so a retry finds it at once
  return hit != nullptr ? scan_ : kNpos;
}

Parser::Status Parser::parse(std::string_view in, std::size_t& consumed) {
  consumed = 0;
  if (state_ == State::kError) return Status::kError;
  const std::size_t window = sat_add(limits_.max_query_buffer, 1);
  for (;;) {
    // Only the first max_query_buffer + 1 bytes of a command are ever looked
    // at, so the outcome does not depend on how much else was read with it.
    const std::string_view cmd = in.substr(consumed).substr(0, window);
    if (state_ == State::kStart) {
      if (cmd.empty()) return Status::kNeedMore;
      std::size_t end = 0;
      if (cmd[0] == '*' && parse_simple_multibulk(cmd, end)) {
        consumed += end;
        return Status::kOk;
      }
      state_ = cmd[0] == '*' ? State::kMultibulk : State::kInline;
      remaining_ = -1;
      bulk_len_ = -1;
      spans_.clear();
      arena_.clear();
      start_line(0);
    }
    const bool is_inline = state_ == State::kInline;
    const Step step = is_inline ? parse_inline(cmd) : parse_multibulk(cmd);
    if (step == Step::kNeedMore && cmd.size() < window) return Status::kNeedMore;
    if (step == Step::kError) {
      consumed = 0;
      return Status::kError;
    }
    if (step == Step::kNeedMore || pos_ > limits_.max_query_buffer) {
      fail(ParseError::kQueryBufferLimit);
      consumed = 0;
      return Status::kError;
    }
    state_ = State::kStart;
    consumed += pos_;
    if (spans_.empty()) continue;  // *0, *-1, blank line: Redis skips them
    args_.clear();
    const char* base = is_inline ? arena_.data() : cmd.data();
    for (const auto& [off, len] : spans_) args_.emplace_back(base + off, len);
    return Status::kOk;
  }
}

bool Parser::parse_simple_multibulk(std::string_view cmd, std::size_t& end) {
  // "*N\r?" with N in 1..9 (the byte after '\r' is not checked, as Redis).
  const char* p = cmd.data();
  const std::size_t size = cmd.size();
  if (size < 4 || p[1] < '1' || p[1] > '9' || p[2] != '\r' || limits_.max_inline_len < 2) return false;
  const auto n = static_cast<std::size_t>(p[1] - '0');
  if (n > limits_.max_multibulk_len) return false;
  args_.clear();
  std::size_t pos = 4;
  for (std::size_t i = 0; i < n; ++i) {
    // "$len\r?" with len canonical (no leading zero), up to 9 digits.
    if (size - pos < 4 || p[pos] != '$') return false;
    std::size_t q = pos + 1;
    std::size_t len = 0;
    if (p[q] == '0') {
      ++q;
    } else {
      while (q < size && q - pos <= 9 && p[q] >= '0' && p[q] <= '9') len = len * 10 + static_cast<std::size_t>(p[q++] - '0');
      if (q == pos + 1) return false;
    }
    if (q >= size || p[q] != '\r' || q - pos > limits_.max_inline_len) return false;
    if (len > limits_.max_bulk_len || (unauthenticated_ && len > static_cast<std::size_t>(kUnauthMaxBulkLen))) {
      return false;
    }
    const std::size_t data = q + 2;
    if (data > size || size - data < len + 2) return false;
    args_.emplace_back(p + data, len);
    pos = data + len + 2;  // the two bytes after the data are not checked (Redis)
  }
  if (pos > limits_.max_query_buffer) return false;
  end = pos;
  return true;
}

bool Parser::parse_get(std::string_view in, std::string_view& key, std::size_t& end) const {
  // The checks parse_simple_multibulk() makes, for this one shape: count 2,
  // "$3" and "$<n>" header lines (at most 10 bytes, so within any
  // max_inline_len of 10 or more), both lengths within max_bulk_len, the
  // whole command within max_query_buffer. The two bytes after each
  // argument are not checked, as there (and in Redis).
  static constexpr std::string_view kHead = "*2\r\n$3\r\n";
  if (state_ != State::kStart || unauthenticated_ || limits_.max_multibulk_len < 2 || limits_.max_inline_len < 10 ||
      limits_.max_bulk_len < 3 || in.size() < kHead.size() + 10 || in.substr(0, kHead.size()) != kHead) {
    return false;
  }
  const char* p = in.data() + kHead.size();
  if ((p[0] | 0x20) != 'g' || (p[1] | 0x20) != 'e' || (p[2] | 0x20) != 't' || p[5] != '$' || p[6] < '1' || p[6] > '9') {
    return false;
  }
  // p[3], p[4]: the two unchecked bytes after "GET".
  const std::size_t digits_at = kHead.size() + 6;
  std::size_t q = digits_at;
  std::size_t len = 0;
  while (q < in.size() && q - digits_at < 9 && in[q] >= '0' && in[q] <= '9') {
    len = len * 10 + static_cast<std::size_t>(in[q++] - '0');
  }
  if (q + 2 > in.size() || in[q] != '\r' || len > limits_.max_bulk_len) return false;
  const std::size_t data = q + 2;  // the byte after '\r' is not checked
  if (in.size() - data < len + 2 || data + len + 2 > limits_.max_query_buffer) return false;
  key = in.substr(data, len);
  end = data + len + 2;
  return true;
}

Parser::Step Parser::parse_multibulk(std::string_view cmd) {
  if (remaining_ < 0) {
    const std::size_t r = find_line_end(cmd, '\r');
    if (r == kNpos) {
      return cmd.size() - pos_ > limits_.max_inline_len ? fail(ParseError::kTooBigMbulkCount)
                                                        : Step::kNeedMore;
    }
    if (r + 2 > cmd.size()) return Step::kNeedMore;  // Redis wants one more byte
    std::int64_t n = 0;
    if (!parse_redis_int(cmd.substr(pos_ + 1, r - pos_ - 1), n) ||
        (n > 0 && static_cast<std::uint64_t>(n) > limits_.max_multibulk_len)) {
      return fail(ParseError::kInvalidMultibulkLength);
    }
    if (unauthenticated_ && n > kUnauthMaxMultibulkLen) return fail(ParseError::kUnauthMultibulkLength);
    start_line(r + 2);  // skips '\r' and whatever byte follows, like Redis
    if (n <= 0) {
      remaining_ = 0;
      return Step::kDone;
    }
    remaining_ = n;
    spans_.reserve(std::min<std::size_t>(static_cast<std::size_t>(n), 1024));
  }
  while (remaining_ > 0) {
    if (bulk_len_ < 0) {
      const std::size_t r = find_line_end(cmd, '\r');
      if (r == kNpos) {
        return cmd.size() - pos_ > limits_.max_inline_len ? fail(ParseError::kTooBigBulkCount)
                                                          : Step::kNeedMore;
      }
      if (r + 2 > cmd.size()) return Step::kNeedMore;
      if (cmd[pos_] != '$') return fail(ParseError::kExpectedDollar, cmd[pos_]);
      std::int64_t len = 0;
      if (!parse_redis_int(cmd.substr(pos_ + 1, r - pos_ - 1), len) || len < 0 ||
          static_cast<std::uint64_t>(len) > limits_.max_bulk_len) {
        return fail(ParseError::kInvalidBulkLength);
      }
      if (unauthenticated_ && len > kUnauthMaxBulkLen) return fail(ParseError::kUnauthBulkLength);
      start_line(r + 2);
      bulk_len_ = len;
    }
    const auto len = static_cast<std::size_t>(bulk_len_);
    if (cmd.size() - pos_ < len + 2) return Step::kNeedMore;
    spans_.emplace_back(pos_, len);
    start_line(pos_ + len + 2);  // the two bytes after the data are not checked (Redis)
    bulk_len_ = -1;
    --remaining_;
  }
  return Step::kDone;
}

Parser::Step Parser::parse_inline(std::string_view cmd) {
  const std::size_t nl = find_line_end(cmd, '\n');
  if (nl == kNpos) {
    return cmd.size() - pos_ > limits_.max_inline_len ? fail(ParseError::kTooBigInline)
                                                      : Step::kNeedMore;
  }
  std::size_t end = nl;
  if (end > 0 && cmd[end - 1] == '\r') --end;
  if (!split_inline(cmd.substr(0, end))) return fail(ParseError::kUnbalancedQuotes);
  pos_ = nl + 1;
  return Step::kDone;
}

// sdssplitargs() over `line` (which holds no NUL: see find_line_end). The
// unescaped tokens go to arena_, their (offset, length) to spans_.
bool Parser::split_inline(std::string_view line) {
  const std::size_t n = line.size();
  auto at = [&](std::size_t k) -> char { return k < n ? line[k] : '\0'; };
  std::size_t i = 0;
  for (;;) {
    while (i < n && is_c_space(line[i])) ++i;
    if (i >= n) return true;
    const std::size_t start = arena_.size();
    bool in_dq = false;
    bool in_sq = false;
    bool done = false;
    while (!done) {
      const char c = at(i);
      if (in_dq) {
        if (c == '\\' && at(i + 1) == 'x' && is_hex(at(i + 2)) && is_hex(at(i + 3))) {
          arena_.push_back(static_cast<char>(hex_value(at(i + 2)) * 16 + hex_value(at(i + 3))));
          i += 3;
        } else if (c == '\\' && at(i + 1) != '\0') {
          ++i;
          switch (at(i)) {
            case 'n': arena_.push_back('\n'); break;
            case 'r': arena_.push_back('\r'); break;
            case 't': arena_.push_back('\t'); break;
            case 'b': arena_.push_back('\b'); break;
            case 'a': arena_.push_back('\a'); break;
            default: arena_.push_back(at(i)); break;
          }
        } else if (c == '"') {
          // The closing quote must be followed by a space or the end.
          if (at(i + 1) != '\0' && !is_c_space(at(i + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;  // unterminated
        } else {
          arena_.push_back(c);
        }
      } else if (in_sq) {
        if (c == '\\' && at(i + 1) == '\'') {
          ++i;
          arena_.push_back('\'');
        } else if (c == '\'') {
          if (at(i + 1) != '\0' && !is_c_space(at(i + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          arena_.push_back(c);
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_dq = true;
            break;
          case '\'':
            in_sq = true;
            break;
          default:
            arena_.push_back(c);
            break;
        }
      }
      if (at(i) != '\0') ++i;
    }
    spans_.emplace_back(start, arena_.size() - start);
  }
}

}  // namespace ringd::resp
