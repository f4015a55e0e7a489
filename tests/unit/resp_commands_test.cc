// Commands beyond GET: MGET, HELLO/RESP3, AUTH, CLIENT, COMMAND, INFO,
// CONFIG GET, DBSIZE, RING.*; replies compared byte for byte with what
// Redis 7.0 sends (or, for ringd's own commands, with their documentation).
#include <gtest/gtest.h>

#include <string>

#include "resp/session.h"
#include "resp_fake_backend.h"

namespace ringd::resp {
namespace {

class RespCommandsTest : public ::testing::Test {
 protected:
  RespCommandsTest() { backend_.endpoints = {{"k", "127.0.0.1:9001"}}; }

  // Replies to `in` fed in one read, and checks that byte-by-byte feeding
  // gives the same bytes.
  std::string run(std::string_view in, const SessionOptions& options = {}) {
    const std::uint64_t next_id = stats_.next_client_id.load();
    backend_.selected = 0;  // a new connection starts on database 0
    Session whole(backend_, stats_, options);
    std::string out;
    whole.feed(in, out);
    while (whole.paused()) whole.resume(out);
    stats_.next_client_id.store(next_id);  // same CLIENT ID for both
    backend_.selected = 0;
    Session bytes(backend_, stats_, options);
    std::string out2;
    for (char c : in) {
      if (!bytes.feed(std::string_view(&c, 1), out2)) break;
      while (bytes.paused()) bytes.resume(out2);
    }
    EXPECT_EQ(out, out2) << "input: " << in;
    return out;
  }

  FakeBackend backend_;
  Stats stats_;
};

TEST_F(RespCommandsTest, Mget) {
  EXPECT_EQ(run("MGET k x\r\n"), "*2\r\n$14\r\n127.0.0.1:9001\r\n$13\r\n10.0.0.1:8000\r\n");
  EXPECT_EQ(run("MGET\r\n"), "-ERR wrong number of arguments for 'mget' command\r\n");
  backend_.endpoints.clear();
  EXPECT_EQ(run("MGET a b\r\n"), "*2\r\n$-1\r\n$-1\r\n");
  EXPECT_EQ(run("HELLO 3\r\nMGET a\r\nGET a\r\n").substr(run("HELLO 3\r\n").size()), "*1\r\n_\r\n_\r\n");
}

TEST_F(RespCommandsTest, HelloRepliesMapInResp3AndArrayInResp2) {
  const std::string v2 = run("HELLO\r\n");
  EXPECT_EQ(v2.substr(0, 30), "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7");
  EXPECT_NE(v2.find("$5\r\nproto\r\n:2\r\n"), std::string::npos);
  const std::string v3 = run("HELLO 3\r\n");
  EXPECT_EQ(v3.substr(0, 4), "%7\r\n");
  EXPECT_NE(v3.find("$5\r\nproto\r\n:3\r\n"), std::string::npos);
  EXPECT_NE(v3.find("$7\r\nmodules\r\n*0\r\n"), std::string::npos);
  EXPECT_EQ(run("HELLO 4\r\n"), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(run("HELLO x\r\n"), "-ERR Protocol version is not an integer or out of range\r\n");
  EXPECT_EQ(run("HELLO 3 FOO\r\n"), "-ERR Syntax error in HELLO option 'FOO'\r\n");
  // HELLO 3 then HELLO 2: back to RESP2 nulls.
  const std::string both = run("HELLO 3\r\nGET-NOT\r\nHELLO 2\r\nCLIENT GETNAME\r\n");
  EXPECT_EQ(both.substr(both.size() - 5), "$-1\r\n");
}

TEST_F(RespCommandsTest, HelloSetname) {
  const std::string out = run("HELLO 3 SETNAME web1\r\nCLIENT GETNAME\r\n");
  EXPECT_EQ(out.substr(out.size() - 10), "$4\r\nweb1\r\n");
  EXPECT_EQ(run("HELLO 2 SETNAME \"a b\"\r\n"),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
}

TEST_F(RespCommandsTest, Resp3NullForGetOnEmptyRing) {
  backend_.endpoints.clear();
  const std::string hello = run("HELLO 3\r\n");
  EXPECT_EQ(run("HELLO 3\r\nGET k\r\n").substr(hello.size()), "_\r\n");
}

TEST_F(RespCommandsTest, AuthWithoutPasswordConfigured) {
  EXPECT_EQ(run("AUTH x\r\n"),
            "-ERR AUTH <password> called without any password configured for the default user. "
            "Are you sure your configuration is correct?\r\n");
  EXPECT_EQ(run("AUTH default x\r\n"), "+OK\r\n");  // nopass user: any password
  EXPECT_EQ(run("AUTH bob x\r\n"), "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(run("AUTH a b c\r\n"), "-ERR syntax error\r\n");
  EXPECT_EQ(run("AUTH\r\n"), "-ERR wrong number of arguments for 'auth' command\r\n");
}

TEST_F(RespCommandsTest, RequirePass) {
  const std::string pass = "s3cret";
  SessionOptions opts;
  opts.password = &pass;
  EXPECT_EQ(run("GET k\r\n", opts), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(run("PING\r\n", opts), "-NOAUTH Authentication required.\r\n");
  // Existence and arity come first, as in Redis.
  EXPECT_EQ(run("FOO\r\n", opts), "-ERR unknown command 'FOO', with args beginning with: \r\n");
  EXPECT_EQ(run("GET\r\n", opts), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(run("AUTH nope\r\n", opts), "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(run("AUTH s3cret\r\nGET k\r\n", opts), "+OK\r\n$14\r\n127.0.0.1:9001\r\n");
  // The same in the multibulk form, which authenticated clients' GETs take a shortcut for.
  EXPECT_EQ(run("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", opts), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(run("*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", opts),
            "+OK\r\n$14\r\n127.0.0.1:9001\r\n");
  EXPECT_EQ(run("AUTH default s3cret\r\nPING\r\n", opts), "+OK\r\n+PONG\r\n");
  EXPECT_EQ(run("QUIT\r\n", opts), "+OK\r\n");
  EXPECT_EQ(run("HELLO 3\r\n", opts).substr(0, 7), "-NOAUTH");
  EXPECT_EQ(run("HELLO 3 AUTH default s3cret\r\n", opts).substr(0, 4), "%7\r\n");
  EXPECT_EQ(run("HELLO 3 AUTH default bad\r\n", opts),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_GT(stats_.auth_failures.load(), 0u);
  EXPECT_GT(stats_.noauth_rejections.load(), 0u);
}

TEST_F(RespCommandsTest, UnauthenticatedLimitsLikeRedis) {
  const std::string pass = "pw";
  SessionOptions opts;
  opts.password = &pass;
  EXPECT_EQ(run("*11\r\n", opts), "-ERR Protocol error: unauthenticated multibulk length\r\n");
  EXPECT_EQ(run("*1\r\n$16385\r\n", opts), "-ERR Protocol error: unauthenticated bulk length\r\n");
  // The ordinary checks come first.
  EXPECT_EQ(run("*1\r\n$x\r\n", opts), "-ERR Protocol error: invalid bulk length\r\n");
  // Within the limits: an ordinary NOAUTH.
  EXPECT_EQ(run("*10\r\n$4\r\nECHO\r\n" + std::string("$1\r\na\r\n") + std::string(8 * 7, 'x'), opts), "");
  // AUTH lifts the limits for the next command of the same pipeline.
  const std::string big(20000, 'b');
  EXPECT_EQ(run("AUTH pw\r\n*2\r\n$4\r\nECHO\r\n$20000\r\n" + big + "\r\n", opts),
            "+OK\r\n$20000\r\n" + big + "\r\n");
  // No password configured: no such limits.
  EXPECT_EQ(run("*11\r\n"), "");
}

TEST_F(RespCommandsTest, ClientSubcommands) {
  Session s(backend_, stats_);
  std::string out;
  s.feed("CLIENT ID\r\n", out);
  std::string want(1, ':');
  want.append(std::to_string(s.client().id)).append("\r\n");
  EXPECT_EQ(out, want);
  EXPECT_EQ(run("CLIENT GETNAME\r\n"), "$-1\r\n");
  EXPECT_EQ(run("CLIENT SETNAME n1\r\nCLIENT GETNAME\r\n"), "+OK\r\n$2\r\nn1\r\n");
  EXPECT_EQ(run("CLIENT SETNAME n1\r\nCLIENT SETNAME \"\"\r\nCLIENT GETNAME\r\n"), "+OK\r\n+OK\r\n$-1\r\n");
  EXPECT_EQ(run("CLIENT SETNAME \"a\\nb\"\r\n"),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(run("CLIENT\r\n"), "-ERR wrong number of arguments for 'client' command\r\n");
  EXPECT_EQ(run("CLIENT SETNAME\r\n"), "-ERR wrong number of arguments for 'client|setname' command\r\n");
  EXPECT_EQ(run("client kill x\r\n"), "-ERR unknown subcommand 'kill'. Try CLIENT HELP.\r\n");
  const std::string info = run("CLIENT INFO\r\n");
  EXPECT_EQ(info.substr(0, 1), "$");
  EXPECT_NE(info.find(" cmd=client|info user=default redir=-1 resp=2\n\r\n"), std::string::npos);
  const std::string hello = run("HELLO 3\r\n");
  EXPECT_EQ(run("HELLO 3\r\nCLIENT INFO\r\n").substr(hello.size()).substr(0, 1), "=");
}

TEST_F(RespCommandsTest, CommandIntrospection) {
  EXPECT_EQ(run("COMMAND COUNT\r\n"), ":18\r\n");
  const std::string all = run("COMMAND\r\n");
  EXPECT_EQ(all.substr(0, 5), "*18\r\n");
  EXPECT_EQ(all.substr(5, 25), "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+re");
  const std::string info = run("COMMAND INFO get nosuch\r\n");
  EXPECT_EQ(info.substr(0, 18), "*2\r\n*10\r\n$3\r\nget\r\n");
  EXPECT_EQ(info.substr(info.size() - 5), "$-1\r\n");
  const std::string docs = run("COMMAND DOCS get\r\n");
  EXPECT_EQ(docs.substr(0, 17), "*2\r\n$3\r\nget\r\n*6\r\n");
  EXPECT_EQ(run("COMMAND FOO\r\n"), "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n");
  EXPECT_EQ(run("COMMAND COUNT x\r\n"), "-ERR wrong number of arguments for 'command|count' command\r\n");
}

TEST_F(RespCommandsTest, ConfigGetForBenchmarkTools) {
  EXPECT_EQ(run("CONFIG GET save\r\n"), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
  EXPECT_EQ(run("CONFIG GET appendonly\r\n"), "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  EXPECT_EQ(run("CONFIG GET nosuch\r\n"), "*0\r\n");
  EXPECT_EQ(run("CONFIG GET *\r\n").substr(0, 4), "*6\r\n");
  EXPECT_EQ(run("CONFIG SET a b\r\n"), "-ERR unknown subcommand 'SET'. Try CONFIG HELP.\r\n");
}

TEST_F(RespCommandsTest, InfoSections) {
  Session s(backend_, stats_);
  std::string all;
  s.feed("INFO\r\n", all);
  EXPECT_NE(all.find("# Stats\r\ntotal_connections_received:"), std::string::npos);
  EXPECT_NE(all.find("\r\n\r\n# Ring\r\nring_nodes:3\r\n"), std::string::npos);
  const std::string ring = run("info RING\r\n");
  EXPECT_EQ(ring, "$22\r\n# Ring\r\nring_nodes:3\r\n\r\n");
  EXPECT_EQ(run("INFO nosuch\r\n"), "$0\r\n\r\n");
  const std::string hello = run("HELLO 3\r\n");
  EXPECT_EQ(run("HELLO 3\r\nINFO ring\r\n").substr(hello.size()), "=26\r\ntxt:# Ring\r\nring_nodes:3\r\n\r\n");
}

TEST_F(RespCommandsTest, RingCommands) {
  EXPECT_EQ(run("DBSIZE\r\n"), ":3\r\n");
  EXPECT_EQ(run("RING.CHECKSUM\r\n"), "$16\r\n0123456789abcdef\r\n");
  EXPECT_EQ(run("ring.owners k 2\r\n"), "*2\r\n$13\r\n10.0.0.1:8000\r\n$13\r\n10.0.0.7:8000\r\n");
  EXPECT_EQ(run("RING.OWNERS k 10\r\n").substr(0, 4), "*3\r\n");
  EXPECT_EQ(run("RING.OWNERS k 0\r\n"), "-ERR value is out of range, must be positive\r\n");
  EXPECT_EQ(run("RING.OWNERS k x\r\n"), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(run("RING.OWNERS k\r\n"), "-ERR wrong number of arguments for 'ring.owners' command\r\n");
  EXPECT_EQ(run("RING.NODES\r\n").substr(0, 4), "*3\r\n");
  backend_.endpoints.clear();
  EXPECT_EQ(run("DBSIZE\r\nRING.OWNERS k 3\r\n"), ":0\r\n*0\r\n");
}

// Without service tags SELECT 0..15 is accepted and changes nothing.
TEST_F(RespCommandsTest, SelectWithoutServicesIsANoOp) {
  EXPECT_EQ(run("RING.SERVICES\r\n"), "*0\r\n");
  EXPECT_EQ(run("CONFIG GET databases\r\n"), "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n");
  EXPECT_EQ(run("SELECT 7\r\nGET k\r\nDBSIZE\r\nRING.CHECKSUM\r\n"),
            "+OK\r\n$14\r\n127.0.0.1:9001\r\n:3\r\n$16\r\n0123456789abcdef\r\n");
  EXPECT_EQ(run("SELECT 16\r\nGET k\r\n"), "-ERR DB index is out of range\r\n$14\r\n127.0.0.1:9001\r\n");
  EXPECT_NE(run("SELECT 15\r\nCLIENT INFO\r\n").find(" db=15 "), std::string::npos);
}

// With services, database i is the i-th service (sorted) and the lookups of
// the connection read its ring; past the last service is out of range.
TEST_F(RespCommandsTest, SelectPicksAServiceRing) {
  backend_.service_names = {"api", "search"};
  backend_.service_endpoints = {"10.0.1.1:80", "10.0.2.1:80"};
  backend_.service_checksums = {"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"};
  EXPECT_EQ(run("RING.SERVICES\r\n"), "*2\r\n$3\r\napi\r\n$6\r\nsearch\r\n");
  EXPECT_EQ(run("CONFIG GET databases\r\n"), "*2\r\n$9\r\ndatabases\r\n$1\r\n3\r\n");
  EXPECT_EQ(run("GET k\r\nDBSIZE\r\n"), "$14\r\n127.0.0.1:9001\r\n:3\r\n");
  EXPECT_EQ(run("SELECT 2\r\nGET k\r\nMGET a b\r\nDBSIZE\r\nRING.CHECKSUM\r\nRING.OWNERS k 3\r\nRING.NODES\r\n"),
            "+OK\r\n$11\r\n10.0.2.1:80\r\n*2\r\n$11\r\n10.0.2.1:80\r\n$11\r\n10.0.2.1:80\r\n:1\r\n"
            "$16\r\nbbbbbbbbbbbbbbbb\r\n*1\r\n$11\r\n10.0.2.1:80\r\n*1\r\n$11\r\n10.0.2.1:80\r\n");
  EXPECT_EQ(run("SELECT 1\r\nGET k\r\nSELECT 0\r\nGET k\r\n"),
            "+OK\r\n$11\r\n10.0.1.1:80\r\n+OK\r\n$14\r\n127.0.0.1:9001\r\n");
  // Out of range: Redis's error, and the connection keeps its database.
  EXPECT_EQ(run("SELECT 1\r\nSELECT 3\r\nGET k\r\n"),
            "+OK\r\n-ERR DB index is out of range\r\n$11\r\n10.0.1.1:80\r\n");
  EXPECT_EQ(run("SELECT 15\r\n"), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(run("SELECT -1\r\n"), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(run("SELECT x\r\n"), "-ERR value is not an integer or out of range\r\n");
  EXPECT_NE(run("SELECT 2\r\nCLIENT INFO\r\n").find(" db=2 "), std::string::npos);
  EXPECT_NE(run("SELECT 3\r\nCLIENT INFO\r\n").find(" db=0 "), std::string::npos);
}

TEST_F(RespCommandsTest, OutputBatchPausesAndResumes) {
  Limits limits;
  limits.max_output_batch = 64;
  SessionOptions opts;
  opts.limits = limits;
  Session s(backend_, stats_, opts);
  std::string in;
  for (int i = 0; i < 20; ++i) in += "GET k\r\n";
  std::string out;
  ASSERT_TRUE(s.feed(in, out));
  EXPECT_TRUE(s.paused());
  EXPECT_LT(out.size(), 100u);
  int rounds = 0;
  while (s.paused()) {
    out.clear();
    ASSERT_TRUE(s.resume(out));
    ++rounds;
  }
  EXPECT_GT(rounds, 3);
  // Same bytes as unpaused.
  EXPECT_EQ(run(in, opts), run(in));
}

}  // namespace
}  // namespace ringd::resp
