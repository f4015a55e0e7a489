// Session: parser + command table + pipelining, as a client would see them.
#include "resp/session.h"

#include <gtest/gtest.h>

#include "resp_fake_backend.h"

#include <map>
#include <span>
#include <string>
#include <vector>

namespace ringd::resp {
namespace {

struct Result {
  std::string out;
  bool open = true;
};

class RespSessionTest : public ::testing::Test {
 protected:
  RespSessionTest() {
    backend_.endpoints = {{"/documents/abc", "10.0.0.7:8000"}, {"k", "127.0.0.1:9001"}};
  }

  // Feeds `in` in one read.
  Result feed(std::string_view in, Limits limits = {}) {
    Session s(backend_, stats_, limits);
    Result r;
    r.open = s.feed(in, r.out);
    return r;
  }

  // Feeds `in` one byte per read; the replies must be the same as in one read.
  Result feed_bytewise(std::string_view in, Limits limits = {}) {
    Session s(backend_, stats_, limits);
    Result r;
    for (char c : in) {
      if (!s.feed(std::string_view(&c, 1), r.out)) {
        r.open = false;
        break;
      }
    }
    return r;
  }

  // Asserts the reply to `in` is `want` whether it arrives whole, byte by
  // byte, or split once at every position.
  void expect_reply(std::string_view in, std::string_view want, bool open = true) {
    SCOPED_TRACE(::testing::Message() << "input: " << ::testing::PrintToString(std::string(in)));
    Result whole = feed(in);
    EXPECT_EQ(whole.out, want);
    EXPECT_EQ(whole.open, open);
    Result bytes = feed_bytewise(in);
    EXPECT_EQ(bytes.out, want);
    EXPECT_EQ(bytes.open, open);
    for (std::size_t cut = 1; cut < in.size(); ++cut) {
      Session s(backend_, stats_);
      std::string out;
      bool ok = s.feed(in.substr(0, cut), out);
      if (ok) ok = s.feed(in.substr(cut), out);
      EXPECT_EQ(out, want) << "split at " << cut;
      EXPECT_EQ(ok, open) << "split at " << cut;
    }
  }

  FakeBackend backend_;
  Stats stats_;
};

TEST_F(RespSessionTest, GetReturnsOwnerAsBulk) {
  expect_reply("*2\r\n$3\r\nGET\r\n$14\r\n/documents/abc\r\n", "$13\r\n10.0.0.7:8000\r\n");
  EXPECT_EQ(backend_.keys_seen.back(), "/documents/abc");
}

TEST_F(RespSessionTest, GetIsCaseInsensitiveAndBinarySafe) {
  std::string key("a\0b\r\nc", 6);
  std::string in = "*2\r\n$3\r\ngEt\r\n$6\r\n" + key + "\r\n";
  expect_reply(in, "$13\r\n10.0.0.1:8000\r\n");
  EXPECT_EQ(backend_.keys_seen.back(), key);
}

TEST_F(RespSessionTest, GetOnEmptyRingIsNil) {
  backend_.endpoints.clear();
  expect_reply("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "$-1\r\n");
}

TEST_F(RespSessionTest, PipelinedCommandsAnsweredInOrder) {
  expect_reply(
      "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
      "*1\r\n$4\r\nPING\r\n"
      "*2\r\n$3\r\nGET\r\n$14\r\n/documents/abc\r\n"
      "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"
      "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n",
      "$14\r\n127.0.0.1:9001\r\n+PONG\r\n$13\r\n10.0.0.7:8000\r\n$2\r\nhi\r\n+OK\r\n");
}

TEST_F(RespSessionTest, PartialCommandKeptBetweenFeeds) {
  Session s(backend_, stats_);
  std::string out;
  EXPECT_TRUE(s.feed("*2\r\n$3\r\nGET\r\n$1\r", out));
  EXPECT_EQ(out, "");
  EXPECT_GT(s.buffered(), 0u);
  EXPECT_TRUE(s.feed("\nk\r\n*1\r\n$4\r\nPI", out));
  EXPECT_EQ(out, "$14\r\n127.0.0.1:9001\r\n");
  EXPECT_TRUE(s.feed("NG\r\n", out));
  EXPECT_EQ(out, "$14\r\n127.0.0.1:9001\r\n+PONG\r\n");
  EXPECT_EQ(s.buffered(), 0u);
}

TEST_F(RespSessionTest, QuitRepliesOkAndClosesIgnoringTheRest) {
  expect_reply("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n",
               "+PONG\r\n+OK\r\n", /*open=*/false);
  expect_reply("quit with args\r\n", "+OK\r\n", false);
}

TEST_F(RespSessionTest, AfterCloseEveryFeedFails) {
  Session s(backend_, stats_);
  std::string out;
  EXPECT_FALSE(s.feed("QUIT\r\n", out));
  EXPECT_FALSE(s.feed("PING\r\n", out));
  EXPECT_EQ(out, "+OK\r\n");
}

TEST_F(RespSessionTest, Ping) {
  expect_reply("*1\r\n$4\r\nping\r\n", "+PONG\r\n");
  expect_reply("*2\r\n$4\r\nPING\r\n$5\r\nhello\r\n", "$5\r\nhello\r\n");
  expect_reply("*3\r\n$4\r\nPING\r\n$1\r\na\r\n$1\r\nb\r\n",
               "-ERR wrong number of arguments for 'ping' command\r\n");
}

TEST_F(RespSessionTest, Echo) {
  expect_reply("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "$0\r\n\r\n");
  expect_reply("ECHO \"a\\r\\nb\"\r\n", "$4\r\na\r\nb\r\n");
  expect_reply("ECHO\r\n", "-ERR wrong number of arguments for 'echo' command\r\n");
  expect_reply("ECHO a b\r\n", "-ERR wrong number of arguments for 'echo' command\r\n");
}

TEST_F(RespSessionTest, Select) {
  expect_reply("SELECT 0\r\n", "+OK\r\n");
  expect_reply("SELECT 15\r\n", "+OK\r\n");
  expect_reply("SELECT 16\r\n", "-ERR DB index is out of range\r\n");
  expect_reply("SELECT -1\r\n", "-ERR DB index is out of range\r\n");
  expect_reply("SELECT 2147483647\r\n", "-ERR DB index is out of range\r\n");
  expect_reply("SELECT 2147483648\r\n",
               "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n");
  expect_reply("SELECT -2147483649\r\n",
               "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n");
  for (const char* bad : {"x", "01", "+1", "1.0", "\" 1\"", "-0", "\"\"", "99999999999999999999"}) {
    expect_reply(std::string("SELECT ") + bad + "\r\n",
                 "-ERR value is not an integer or out of range\r\n");
  }
  expect_reply("SELECT\r\n", "-ERR wrong number of arguments for 'select' command\r\n");
  expect_reply("SELECT 1 2\r\n", "-ERR wrong number of arguments for 'select' command\r\n");
}

TEST_F(RespSessionTest, ArityErrorsUseLowerCaseName) {
  expect_reply("*1\r\n$3\r\nGET\r\n", "-ERR wrong number of arguments for 'get' command\r\n");
  expect_reply("*3\r\n$3\r\nGeT\r\n$1\r\na\r\n$1\r\nb\r\n",
               "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_GT(stats_.wrong_arity.load(), 0u);
}

TEST_F(RespSessionTest, UnknownCommandFormat) {
  expect_reply("*1\r\n$3\r\nfoo\r\n", "-ERR unknown command 'foo', with args beginning with: \r\n");
  expect_reply("*3\r\n$3\r\nFOO\r\n$1\r\nx\r\n$1\r\ny\r\n",
               "-ERR unknown command 'FOO', with args beginning with: 'x' 'y' \r\n");
  expect_reply("SET k v\r\n", "-ERR unknown command 'SET', with args beginning with: 'k' 'v' \r\n");
  // The connection stays open.
  expect_reply("foo\r\nPING\r\n",
               "-ERR unknown command 'foo', with args beginning with: \r\n+PONG\r\n");
  EXPECT_GT(stats_.unknown_commands.load(), 0u);
}

TEST_F(RespSessionTest, UnknownCommandTruncatesLikeRedis) {
  // Name: at most 128 bytes. Args: listed while the list is under 128 bytes,
  // each cut to what still fits.
  const std::string name(200, 'n');
  const std::string a(100, 'a');
  const std::string b(100, 'b');
  Result r = feed(name + " " + a + " " + b + " c\r\n");
  const std::string list = "'" + a + "' '" + std::string(128 - 103, 'b') + "' ";
  EXPECT_EQ(r.out, "-ERR unknown command '" + std::string(128, 'n') +
                       "', with args beginning with: " + list + "\r\n");
  EXPECT_TRUE(r.open);
}

TEST_F(RespSessionTest, UnknownCommandMapsNewlinesAndStopsAtNul) {
  // Name "f\r\no\0x", args "a\nb\0" and "c\r".
  const std::string in = std::string("*3\r\n$6\r\nf\r\no\0x\r\n", 16) +
                         std::string("$4\r\na\nb\0\r\n", 10) + "$2\r\nc\r\r\n";
  expect_reply(in, "-ERR unknown command 'f  o', with args beginning with: 'a b' 'c ' \r\n");
}

TEST_F(RespSessionTest, InlineCommands) {
  expect_reply("GET k\r\n", "$14\r\n127.0.0.1:9001\r\n");
  expect_reply("GET k\n", "$14\r\n127.0.0.1:9001\r\n");
  expect_reply("  get   'k'  \r\nping\n", "$14\r\n127.0.0.1:9001\r\n+PONG\r\n");
  expect_reply("\r\n\n   \r\nPING\r\n", "+PONG\r\n");  // blank lines are skipped
}

TEST_F(RespSessionTest, EmptyMultibulkIsSkipped) {
  expect_reply("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
}

TEST_F(RespSessionTest, ProtocolErrorRepliesThenCloses) {
  expect_reply("*1\r\n$4\r\nPING\r\n*x\r\n*1\r\n$4\r\nPING\r\n",
               "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n", false);
  expect_reply("*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n", false);
  expect_reply("*1\r\nx3\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n", false);
  expect_reply("*1\r\n\r\n", "-ERR Protocol error: expected '$', got ' '\r\n", false);
  expect_reply("GET \"k\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", false);
  EXPECT_GT(stats_.protocol_errors.load(), 0u);
}

TEST_F(RespSessionTest, HttpRequestClosesSilently) {
  expect_reply("POST / HTTP/1.1\r\nHost: x\r\n\r\n", "", false);
  expect_reply("Host: 127.0.0.1\r\n", "", false);
  expect_reply("PING\r\npost x\r\nPING\r\n", "+PONG\r\n", false);
  EXPECT_GT(stats_.cross_protocol.load(), 0u);
  // "GET / HTTP/1.1" is an ordinary (wrong arity) GET to Redis.
  expect_reply("GET / HTTP/1.1\r\n", "-ERR wrong number of arguments for 'get' command\r\n");
}

TEST_F(RespSessionTest, CommandBiggerThanQueryBufferClosesSilently) {
  Limits limits;
  limits.max_query_buffer = 64;
  limits.max_bulk_len = 1000;
  const std::string big = "*2\r\n$4\r\nECHO\r\n$60\r\n" + std::string(60, 'x') + "\r\n";
  for (bool bytewise : {false, true}) {
    Result r = bytewise ? feed_bytewise("PING\r\n" + big, limits) : feed("PING\r\n" + big, limits);
    EXPECT_EQ(r.out, "+PONG\r\n");
    EXPECT_FALSE(r.open);
  }
  EXPECT_EQ(stats_.query_buffer_overflows.load(), 2u);
  // A command of exactly max_query_buffer bytes is fine.
  const std::string fits = "*2\r\n$4\r\nECHO\r\n$" + std::to_string(64 - 21) + "\r\n" +
                           std::string(64 - 21, 'y') + "\r\n";
  ASSERT_EQ(fits.size(), 64u);
  Result ok = feed_bytewise(fits, limits);
  EXPECT_TRUE(ok.open);
  EXPECT_EQ(ok.out, "$43\r\n" + std::string(43, 'y') + "\r\n");
}

TEST_F(RespSessionTest, BufferedBytesNeverExceedQueryBufferLimit) {
  Limits limits;
  limits.max_query_buffer = 100;
  limits.max_bulk_len = 1000;
  Session s(backend_, stats_, limits);
  std::string out;
  ASSERT_TRUE(s.feed("*2\r\n$4\r\nECHO\r\n$500\r\n", out));
  bool open = true;
  for (int i = 0; i < 50 && open; ++i) {
    open = s.feed(std::string(10, 'z'), out);
    EXPECT_LE(s.buffered(), 100u);
  }
  EXPECT_FALSE(open);
  EXPECT_EQ(out, "");
}

TEST_F(RespSessionTest, CountsCommands) {
  feed("PING\r\nPING\r\nfoo\r\n");
  EXPECT_EQ(stats_.commands.load(), 3u);
  EXPECT_EQ(stats_.unknown_commands.load(), 1u);
}

}  // namespace
}  // namespace ringd::resp
