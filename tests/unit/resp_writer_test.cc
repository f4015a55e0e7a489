#include "resp/writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace ringd::resp {
namespace {

TEST(RespWriter, SimpleString) {
  std::string out = "x";
  append_simple(out, "OK");
  EXPECT_EQ(out, "x+OK\r\n");  // appends, never clears
}

TEST(RespWriter, ErrorMapsNewlinesToSpaces) {
  std::string out;
  append_error(out, "ERR bad");
  EXPECT_EQ(out, "-ERR bad\r\n");
  out.clear();
  append_error(out, "ERR a\r\nb\nc\rd");
  EXPECT_EQ(out, "-ERR a  b c d\r\n");
}

TEST(RespWriter, Integer) {
  std::string out;
  append_integer(out, 0);
  append_integer(out, -7);
  append_integer(out, std::numeric_limits<std::int64_t>::min());
  append_integer(out, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(out, ":0\r\n:-7\r\n:-9223372036854775808\r\n:9223372036854775807\r\n");
}

TEST(RespWriter, BulkIsBinarySafe) {
  std::string out;
  append_bulk(out, "10.0.0.7:8000");
  append_bulk(out, "");
  append_bulk(out, std::string("a\0\r\n", 4));
  EXPECT_EQ(out, std::string("$13\r\n10.0.0.7:8000\r\n$0\r\n\r\n$4\r\na\0\r\n\r\n", 36));
  out.clear();
  append_bulk(out, std::string(1000, 'z'));
  EXPECT_EQ(out.substr(0, 7), "$1000\r\n");
  EXPECT_EQ(out.size(), 7u + 1000u + 2u);
}

TEST(RespWriter, NilAndArray) {
  std::string out;
  append_nil(out);
  append_array_header(out, 2);
  append_bulk(out, "a");
  append_nil(out);
  append_array_header(out, 0);
  EXPECT_EQ(out, "$-1\r\n*2\r\n$1\r\na\r\n$-1\r\n*0\r\n");
}

// Every length, on both sides of the short-reply path (< 100 bytes).
TEST(RespWriter, BulkOfEveryLength) {
  for (std::size_t n = 0; n <= 130; ++n) {
    const std::string data(n, static_cast<char>('a' + n % 26));
    std::string out = "x";
    append_bulk(out, data);
    EXPECT_EQ(out, "x$" + std::to_string(n) + "\r\n" + data + "\r\n");
  }
}

}  // namespace
}  // namespace ringd::resp
