// Parser: every message, whole or split at any byte, gives the same commands;
// malformed input gives Redis's exact error; limits hold.
#include "resp/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringd::resp {
namespace {

using Command = std::vector<std::string>;

struct Outcome {
  std::vector<Command> commands;
  bool error = false;
  std::string error_text;
  ParseError error_kind = ParseError::kNone;
  std::size_t pending = 0;  // bytes left unconsumed at the end

  bool operator==(const Outcome&) const = default;
};

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << "{commands=" << ::testing::PrintToString(o.commands) << " error=" << o.error << " '"
      << o.error_text << "' pending=" << o.pending << "}";
}

// Drives a parser the way Session does: bytes arrive in `chunks`, consumed
// bytes are dropped, the rest is kept for the next call.
Outcome run(const std::vector<std::string_view>& chunks, const Limits& limits = {}) {
  Parser parser(limits);
  Outcome o;
  std::string pending;
  for (std::string_view chunk : chunks) {
    pending.append(chunk);
    for (;;) {
      std::size_t consumed = 12345;
      const Parser::Status st = parser.parse(pending, consumed);
      if (st == Parser::Status::kError) {
        EXPECT_EQ(consumed, 0u);
        o.error = true;
        o.error_text = std::string(parser.error_text());
        o.error_kind = parser.error();
        // Sticky.
        EXPECT_EQ(parser.parse(pending, consumed), Parser::Status::kError);
        return o;  // (how much had arrived by then depends on the split)
      }
      EXPECT_LE(consumed, pending.size());
      if (st == Parser::Status::kOk) {
        EXPECT_GT(consumed, 0u);
        Command c;
        for (std::string_view a : parser.args()) c.emplace_back(a);
        EXPECT_FALSE(c.empty());
        o.commands.push_back(std::move(c));
      }
      pending.erase(0, consumed);
      if (st == Parser::Status::kNeedMore) break;
    }
  }
  o.pending = pending.size();
  return o;
}

Outcome run_whole(std::string_view in, const Limits& limits = {}) { return run({in}, limits); }

// The outcome of `in` as one read must equal its outcome byte by byte and
// split once at every position (and, for short inputs, twice).
Outcome run_every_split(std::string_view in, const Limits& limits = {}) {
  SCOPED_TRACE(::testing::Message() << "input: " << ::testing::PrintToString(std::string(in)));
  const Outcome whole = run_whole(in, limits);
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < in.size(); ++i) bytes.push_back(in.substr(i, 1));
  EXPECT_EQ(run(bytes, limits), whole) << "byte by byte";
  for (std::size_t i = 1; i < in.size(); ++i) {
    EXPECT_EQ(run({in.substr(0, i), in.substr(i)}, limits), whole) << "split at " << i;
    if (in.size() <= 64) {
      for (std::size_t j = i + 1; j < in.size(); ++j) {
        EXPECT_EQ(run({in.substr(0, i), in.substr(i, j - i), in.substr(j)}, limits), whole)
            << "split at " << i << " and " << j;
      }
    }
  }
  return whole;
}

std::string S(const char* s, std::size_t n) { return std::string(s, n); }

// ---------------------------------------------------------------- valid input

struct ValidCase {
  std::string in;
  std::vector<Command> want;
};

TEST(RespParser, ValidMessagesSplitAnywhere) {
  const std::vector<ValidCase> cases = {
      {"*1\r\n$4\r\nPING\r\n", {{"PING"}}},
      {"*2\r\n$3\r\nGET\r\n$14\r\n/documents/abc\r\n", {{"GET", "/documents/abc"}}},
      {"*2\r\n$3\r\nGET\r\n$0\r\n\r\n", {{"GET", ""}}},
      {S("*2\r\n$3\r\nGET\r\n$5\r\na\0\r\nb\r\n", 24), {{"GET", S("a\0\r\nb", 5)}}},
      {"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\n", {{"SET", "k", "0123456789"}}},
      // Pipelines.
      {"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
       {{"PING"}, {"GET", "k"}, {"ECHO", "hi"}}},
      {"PING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nGET x\nQUIT\r\n",
       {{"PING"}, {"GET", "k"}, {"GET", "x"}, {"QUIT"}}},
      // Empty commands are skipped.
      {"*0\r\n*-1\r\n*-42\r\n*1\r\n$4\r\nPING\r\n*0\r\n", {{"PING"}}},
      {"\r\n\n \t \r\nPING\r\n\n", {{"PING"}}},
      // Inline.
      {"GET k\r\n", {{"GET", "k"}}},
      {"GET k\n", {{"GET", "k"}}},
      {"  GET\t k  \r\n", {{"GET", "k"}}},
      {"GET k\rx\r\n", {{"GET", "k", "x"}}},  // a lone CR separates tokens
      {"a\vb\r\n", {{"a\vb"}}},            // \v ends no token (only skipped between)
      {"a \v\f b\r\n", {{"a", "b"}}},
      {"$3\r\n", {{"$3"}}},  // anything not starting with '*' is inline
      {"\"\"\r\n", {{""}}},
      {"ECHO \"a b\" 'c d'\r\n", {{"ECHO", "a b", "c d"}}},
      {"ECHO \"\\n\\r\\t\\b\\a\\\\\\\"\\q\"\r\n", {{"ECHO", "\n\r\t\b\a\\\"q"}}},
      {"ECHO \"\\x41\\x7a\\xFf\\x0\\xzz\\X41\"\r\n",
       {{"ECHO", "Az\xff" "x0xzzX41"}}},
      {"ECHO \"\\x00\"\r\n", {{"ECHO", S("\0", 1)}}},
      {"ECHO 'it\\'s' 'a\\b'\r\n", {{"ECHO", "it's", "a\\b"}}},
  };
  for (const auto& c : cases) {
    const Outcome o = run_every_split(c.in);
    EXPECT_FALSE(o.error) << c.in << ": " << o.error_text;
    EXPECT_EQ(o.commands, c.want) << ::testing::PrintToString(c.in);
    EXPECT_EQ(o.pending, 0u) << c.in;
  }
}

TEST(RespParser, QuoteMayStartInsideToken) {
  // sdssplitargs: a quote inside a bare token opens a quoted part.
  const Outcome o = run_every_split("ECHO ab\"c d\" x'y'\r\n");
  EXPECT_EQ(o.commands, (std::vector<Command>{{"ECHO", "abc d", "xy"}}));
}

TEST(RespParser, IncompleteInputIsKeptNotConsumed) {
  for (std::string_view in : {"*", "*2", "*2\r", "*2\r\n$3\r\nGET\r\n$1\r\nk", "*2\r\n$3\r\nGET\r\n$1\r\nk\r",
                              "GET k", "GET k\r", "\"a b"}) {
    const Outcome o = run_every_split(in);
    EXPECT_FALSE(o.error) << in;
    EXPECT_TRUE(o.commands.empty()) << in;
    EXPECT_EQ(o.pending, in.size()) << in;
  }
}

TEST(RespParser, EmptyCommandsBeforeAPartialOneAreConsumed) {
  Parser p(Limits{});
  std::size_t consumed = 0;
  EXPECT_EQ(p.parse("*0\r\n\r\n*1\r\n$4\r\nPI", consumed), Parser::Status::kNeedMore);
  EXPECT_EQ(consumed, 6u);
  EXPECT_EQ(p.parse("*1\r\n$4\r\nPING\r\n", consumed), Parser::Status::kOk);
  EXPECT_EQ(consumed, 14u);
  ASSERT_EQ(p.args().size(), 1u);
  EXPECT_EQ(p.args()[0], "PING");
}

TEST(RespParser, MultibulkArgsAreViewsIntoInput) {
  Parser p(Limits{});
  const std::string in = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
  std::size_t consumed = 0;
  ASSERT_EQ(p.parse(in, consumed), Parser::Status::kOk);
  EXPECT_EQ(consumed, in.size());
  EXPECT_EQ(p.args()[1].data(), in.data() + in.find("k\r\n"));
}

TEST(RespParser, LaxTerminatorsLikeRedis) {
  // Redis finds header lines by their '\r' and skips one more byte whatever
  // it is; it also skips the two bytes after a bulk argument unchecked.
  const Outcome o = run_every_split("*2\rX$3\rYGETab$1\r\nkZZ*1\r\n$4\r\nPING!!");
  EXPECT_FALSE(o.error);
  EXPECT_EQ(o.commands, (std::vector<Command>{{"GET", "k"}, {"PING"}}));
}

// -------------------------------------------------------------- malformed input

struct ErrorCase {
  std::string in;
  std::string text;
  std::vector<Command> before = {};  // commands completed before the error
};

TEST(RespParser, MalformedInputGivesRedisErrors) {
  const std::string kMbulk = "ERR Protocol error: invalid multibulk length";
  const std::string kBulk = "ERR Protocol error: invalid bulk length";
  const std::string kQuotes = "ERR Protocol error: unbalanced quotes in request";
  const std::vector<ErrorCase> cases = {
      {"*x\r\n", kMbulk},
      {"*\r\n", kMbulk},
      {"*-0\r\n", kMbulk},
      {"*01\r\n", kMbulk},
      {"*+1\r\n", kMbulk},
      {"* 1\r\n", kMbulk},
      {"*1 \r\n", kMbulk},
      {"*1048577\r\n", kMbulk},               // > max_multibulk_len
      {"*99999999999999999999\r\n", kMbulk},  // overflows
      {"*1\r\n$x\r\n", kBulk},
      {"*1\r\n$-1\r\n", kBulk},
      {"*1\r\n$\r\n", kBulk},
      {"*1\r\n$01\r\n", kBulk},
      {"*1\r\n$524289\r\n", kBulk},  // > max_bulk_len
      {"*1\r\nGET\r\n", "ERR Protocol error: expected '$', got 'G'"},
      {"*2\r\n$3\r\nGET\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'"},
      {"*1\r\n\r\n", "ERR Protocol error: expected '$', got '\r'"},
      {"*1\r\n*1\r\n", "ERR Protocol error: expected '$', got '*'"},
      {"\"\r\n", kQuotes},
      {"GET \"k\r\n", kQuotes},
      {"GET 'k\r\n", kQuotes},
      {"GET \"k\"x\r\n", kQuotes},  // closing quote not followed by a space
      {"GET 'k'x\r\n", kQuotes},
      {"ECHO ab\"c d\"ef\r\n", kQuotes},
      {"GET \"k\\\"\r\n", kQuotes},
      {"ECHO \"a\\\r\n", kQuotes},  // backslash at the very end
      {"PING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$-5\r\nPING\r\n", kBulk, {{"PING"}, {"GET", "k"}}},
  };
  for (const auto& c : cases) {
    const Outcome o = run_every_split(c.in);
    EXPECT_TRUE(o.error) << ::testing::PrintToString(c.in);
    EXPECT_EQ(o.error_text, c.text) << ::testing::PrintToString(c.in);
    EXPECT_EQ(o.commands, c.before) << ::testing::PrintToString(c.in);
  }
}

TEST(RespParser, ErrorNeedsTheWholeHeaderLine) {
  // Like Redis, a bad header is only judged once its line is complete.
  for (std::string_view in : {"*x", "*x\r", "*1\r\n$x", "*1\r\n$x\r", "*1\r\nG", "GET \"k"}) {
    const Outcome o = run_whole(in);
    EXPECT_FALSE(o.error) << in;
  }
}

// ------------------------------------------------------------------------- limits

TEST(RespParser, MultibulkAndBulkLimits) {
  Limits l;
  l.max_multibulk_len = 3;
  l.max_bulk_len = 5;
  EXPECT_EQ(run_every_split("*3\r\n$1\r\na\r\n$1\r\nb\r\n$5\r\nccccc\r\n", l).commands,
            (std::vector<Command>{{"a", "b", "ccccc"}}));
  EXPECT_EQ(run_every_split("*4\r\n", l).error_text, "ERR Protocol error: invalid multibulk length");
  EXPECT_EQ(run_every_split("*1\r\n$6\r\n", l).error_text, "ERR Protocol error: invalid bulk length");
}

TEST(RespParser, TooBigInlineRequest) {
  Limits l;
  l.max_inline_len = 16;
  const std::string at_limit = "ECHO " + std::string(11, 'a');  // 16 bytes
  Outcome ok = run_every_split(at_limit + "\n", l);
  EXPECT_FALSE(ok.error);
  EXPECT_EQ(ok.commands, (std::vector<Command>{{"ECHO", std::string(11, 'a')}}));
  // 17 bytes before the newline: too big, whether or not the newline came.
  for (const std::string& in : {at_limit + "a", at_limit + "a\n", at_limit + "\r\n"}) {
    const Outcome o = run_every_split(in, l);
    EXPECT_TRUE(o.error) << in;
    EXPECT_EQ(o.error_text, "ERR Protocol error: too big inline request") << in;
  }
  // Up to the limit without a newline: still waiting.
  EXPECT_FALSE(run_every_split(at_limit, l).error);
}

TEST(RespParser, TooBigCountStrings) {
  Limits l;
  l.max_inline_len = 8;
  // No '\r' in the first max_inline_len + 1 = 9 bytes of the line: too big.
  EXPECT_FALSE(run_every_split("*1111111", l).error);  // 8 bytes: wait
  EXPECT_EQ(run_every_split("*11111111", l).error_text,
            "ERR Protocol error: too big mbulk count string");
  EXPECT_EQ(run_every_split("*00000000\r\n", l).error_text,
            "ERR Protocol error: too big mbulk count string");
  // A '\r' within them makes it an ordinary (here invalid) number instead.
  EXPECT_EQ(run_every_split("*0000000\r\n", l).error_text,
            "ERR Protocol error: invalid multibulk length");
  EXPECT_FALSE(run_every_split("*1\r\n$1111111", l).error);
  EXPECT_EQ(run_every_split("*1\r\n$11111111", l).error_text,
            "ERR Protocol error: too big bulk count string");
  EXPECT_EQ(run_every_split("*1\r\n$0000000\r\n", l).error_text,
            "ERR Protocol error: invalid bulk length");
}

TEST(RespParser, NulHidesTheLineEndLikeStrchr) {
  // Redis searches header and inline lines with strchr(), which stops at a
  // NUL: the line never completes, and errors once it outgrows the limit.
  Limits l;
  l.max_inline_len = 8;
  const std::string mb = S("*1\0\r\n$4\r\nPING\r\n", 15);
  EXPECT_EQ(run_every_split(mb.substr(0, 8), l).error, false);
  EXPECT_EQ(run_every_split(mb, l).error_text, "ERR Protocol error: too big mbulk count string");
  const std::string bulk = S("*1\r\n$4\0\r\nPING\r\n", 15);
  EXPECT_EQ(run_every_split(bulk, l).error_text, "ERR Protocol error: too big bulk count string");
  const std::string in = S("PI\0NG\r\nPING\r\n", 12);
  EXPECT_EQ(run_every_split(in, l).error_text, "ERR Protocol error: too big inline request");
  EXPECT_TRUE(run_every_split(in, l).commands.empty());
  // A NUL after the line end is just data.
  EXPECT_EQ(run_every_split(S("*1\r\n$1\r\n\0\r\n", 11), l).commands,
            (std::vector<Command>{{S("\0", 1)}}));
}

TEST(RespParser, QueryBufferLimitPerCommand) {
  Limits l;
  l.max_query_buffer = 32;
  // 32 bytes exactly: accepted.
  const std::string fits = "*2\r\n$4\r\nECHO\r\n$11\r\n" + std::string(11, 'x') + "\r\n";
  ASSERT_EQ(fits.size(), 32u);
  EXPECT_EQ(run_every_split(fits + fits, l).commands.size(), 2u);
  // 33 bytes: closes with no reply text, however it is split.
  const std::string big = "*2\r\n$4\r\nECHO\r\n$12\r\n" + std::string(12, 'x') + "\r\n";
  const Outcome o = run_every_split(fits + big, l);
  EXPECT_TRUE(o.error);
  EXPECT_EQ(o.error_kind, ParseError::kQueryBufferLimit);
  EXPECT_EQ(o.error_text, "");
  EXPECT_EQ(o.commands.size(), 1u);
  // A protocol error past the limit is not seen: the limit wins.
  const Outcome late = run_every_split("*2\r\n$4\r\nECHO\r\n$20\r\n" + std::string(20, 'x') + "\r\n$x\r\n", l);
  EXPECT_EQ(late.error_kind, ParseError::kQueryBufferLimit);
  // ... and one before it is reported.
  const Outcome early = run_every_split("*2\r\n$x\r\n" + std::string(40, 'x'), l);
  EXPECT_EQ(early.error_text, "ERR Protocol error: invalid bulk length");
}

TEST(RespParser, SlowTrickleIsNotQuadratic) {
  // A 60,000-byte inline line fed one byte per call: the parser resumes its
  // line-end search where it stopped (rescanning would be ~1.8e9 byte reads).
  Limits l;
  Parser p(l);
  std::string buf;
  std::size_t consumed = 0;
  for (int i = 0; i < 60000; ++i) {
    buf.push_back('a');
    ASSERT_EQ(p.parse(buf, consumed), Parser::Status::kNeedMore);
  }
  buf.append("\r\n");
  ASSERT_EQ(p.parse(buf, consumed), Parser::Status::kOk);
  EXPECT_EQ(p.args()[0].size(), 60000u);
}

TEST(RespParser, ResetClearsError) {
  Parser p(Limits{});
  std::size_t consumed = 0;
  ASSERT_EQ(p.parse("*x\r\n", consumed), Parser::Status::kError);
  p.reset();
  EXPECT_EQ(p.error(), ParseError::kNone);
  EXPECT_EQ(p.parse("PING\r\n", consumed), Parser::Status::kOk);
}

// ------------------------------------------------------------------ integers

TEST(RespParser, RedisIntegerSyntax) {
  struct Case {
    std::string_view s;
    bool ok;
    std::int64_t v;
  };
  const Case cases[] = {
      {"0", true, 0},
      {"1", true, 1},
      {"-1", true, -1},
      {"1234567890", true, 1234567890},
      {"9223372036854775807", true, INT64_MAX},
      {"-9223372036854775808", true, INT64_MIN},
      {"9223372036854775808", false, 0},
      {"-9223372036854775809", false, 0},
      {"18446744073709551616", false, 0},
      {"", false, 0},
      {"-", false, 0},
      {"-0", false, 0},
      {"00", false, 0},
      {"01", false, 0},
      {"+1", false, 0},
      {" 1", false, 0},
      {"1 ", false, 0},
      {"1a", false, 0},
      {"0x1", false, 0},
      {"000000000000000000001", false, 0},
  };
  for (const Case& c : cases) {
    std::int64_t v = 42;
    EXPECT_EQ(parse_redis_int(c.s, v), c.ok) << c.s;
    if (c.ok) {
      EXPECT_EQ(v, c.v) << c.s;
    }
  }
}

// Commands for differential tests: a seed with up to two random edits
// (a byte replaced from `alphabet`, inserted, or deleted), cut short one
// time in four.
class Mutator {
 public:
  Mutator(std::vector<std::string> seeds, std::string alphabet, std::uint64_t seed)
      : seeds_(std::move(seeds)), alphabet_(std::move(alphabet)), rng_(seed) {}

  std::string next_command() {
    std::string in = seeds_[next() % seeds_.size()];
    const int edits = static_cast<int>(next() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = next() % in.size();
      switch (next() % 3) {
        case 0: in[at] = alphabet_[next() % alphabet_.size()]; break;
        case 1: in = in.substr(0, at) + alphabet_[next() % alphabet_.size()] + in.substr(at); break;
        default: in = in.substr(0, at) + in.substr(at + 1); break;
      }
      if (in.empty()) in.push_back('*');
    }
    if (next() % 4 == 0) in.resize(next() % in.size());
    return in;
  }
  const std::string& any_seed() { return seeds_[next() % seeds_.size()]; }

 private:
  std::uint64_t next() {  // xorshift64
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }

  std::vector<std::string> seeds_;
  std::string alphabet_;
  std::uint64_t rng_;
};

// The one-pass path for ordinary commands and the general path agree: a
// whole command takes the first, the same bytes one at a time the second.
// Mutations of ordinary commands (digits, lengths, separators, truncation)
// probe every check the first path makes, under tight limits too.
TEST(RespParserTest, FastPathAgreesWithGeneralPath) {
  Mutator mutator({"*2\r\n$3\r\nGET\r\n$9\r\nkey:00001\r\n", "*1\r\n$4\r\nPING\r\n",
                   "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$1\r\nv\r\n", "*2\r\n$3\r\nGET\r\n$12\r\n/documents/1\r\n"},
                  std::string("*$\r\n0123456789-+x ") + '\0', 0x9e3779b97f4a7c15ull);
  Limits tight;
  tight.max_bulk_len = 8;
  tight.max_multibulk_len = 2;
  tight.max_inline_len = 2;
  tight.max_query_buffer = 24;
  Limits narrow;  // only the header line limit: "$12" is too long
  narrow.max_inline_len = 2;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string in = mutator.next_command();
    in += mutator.any_seed();  // and a command after it
    for (const Limits& limits : {Limits{}, tight, narrow}) {
      std::vector<std::string_view> bytes;
      for (std::size_t i = 0; i < in.size(); ++i) bytes.push_back(std::string_view(in).substr(i, 1));
      ASSERT_EQ(run_whole(in, limits), run(bytes, limits)) << ::testing::PrintToString(in);
    }
  }
}

// parse_get() takes only what parse() would return as {GET, key}, with the
// same bytes consumed: mutations of GETs (case, digits, lengths,
// separators, truncation) under default and tight limits.
TEST(RespParserTest, GetShortcutTakesOnlyWhatParseReturnsAsGet) {
  Mutator mutator({"*2\r\n$3\r\nGET\r\n$16\r\nkey:000000012345\r\n", "*2\r\n$3\r\nget\r\n$1\r\nk\r\n",
                   "*2\r\n$3\r\nGeT\r\n$12\r\n/documents/1\r\n*1\r\n$4\r\nPING\r\n"},
                  std::string("*$\r\n0123456789gGeEtTx ") + '\0', 0x2545f4914f6cdd1dull);
  Limits tight;
  tight.max_bulk_len = 12;
  tight.max_query_buffer = 30;
  Limits narrow;  // header lines of at most 9 bytes: parse_get declines them all
  narrow.max_inline_len = 9;
  Limits one;  // a single argument per command
  one.max_multibulk_len = 1;
  int taken = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    const std::string in = mutator.next_command();
    for (const Limits& limits : {Limits{}, tight, narrow, one}) {
      Parser shortcut(limits);
      std::string_view key;
      std::size_t end = 0;
      if (!shortcut.parse_get(in, key, end)) continue;
      ++taken;
      Parser general(limits);
      std::size_t consumed = 0;
      ASSERT_EQ(general.parse(in, consumed), Parser::Status::kOk) << ::testing::PrintToString(in);
      ASSERT_EQ(consumed, end) << ::testing::PrintToString(in);
      ASSERT_EQ(general.args().size(), 2u) << ::testing::PrintToString(in);
      std::string name(general.args()[0]);
      for (char& c : name) c = static_cast<char>(c | 0x20);
      EXPECT_EQ(name, "get") << ::testing::PrintToString(in);
      EXPECT_EQ(general.args()[1], key) << ::testing::PrintToString(in);
      EXPECT_NE(&limits, &narrow);
      EXPECT_NE(&limits, &one);
    }
  }
  EXPECT_GT(taken, 5000) << "the shortcut should take most unmutated GETs";
}

TEST(RespParserTest, GetShortcutDeclinesWhatItMustLeaveToParse) {
  std::string_view key;
  std::size_t end = 0;
  Parser p{Limits{}};
  const std::string get = "*2\r\n$3\r\nGET\r\n$3\r\nabc\r\n";
  ASSERT_TRUE(p.parse_get(get, key, end));
  EXPECT_EQ(key, "abc");
  EXPECT_EQ(end, get.size());
  EXPECT_FALSE(p.parse_get(get.substr(0, get.size() - 1), key, end)) << "incomplete";
  EXPECT_FALSE(p.parse_get("*2\r\n$3\r\nGET\r\n$0\r\n\r\n", key, end)) << "empty key: left to parse()";
  EXPECT_FALSE(p.parse_get("*2\r\n$3\r\nGET\r\n$03\r\nabc\r\n", key, end)) << "leading zero";
  EXPECT_FALSE(p.parse_get("*2\r\n$3\r\nSET\r\n$3\r\nabc\r\n", key, end));
  EXPECT_FALSE(p.parse_get("*3\r\n$3\r\nGET\r\n$3\r\nabc\r\n$1\r\nx\r\n", key, end));
  p.set_unauthenticated(true);
  EXPECT_FALSE(p.parse_get(get, key, end)) << "unauthenticated clients get parse()'s stricter limits";
  p.set_unauthenticated(false);
  std::size_t consumed = 0;
  ASSERT_EQ(p.parse("*2\r\n$3\r\nGET\r\n$3\r\nab", consumed), Parser::Status::kNeedMore);
  EXPECT_FALSE(p.parse_get(get, key, end)) << "in the middle of a command";
  Limits small;
  small.max_bulk_len = 2;
  EXPECT_FALSE(Parser(small).parse_get(get, key, end)) << "key over max_bulk_len";
  small = Limits{};
  small.max_query_buffer = get.size() - 1;
  EXPECT_FALSE(Parser(small).parse_get(get, key, end)) << "command over max_query_buffer";
}

}  // namespace
}  // namespace ringd::resp
