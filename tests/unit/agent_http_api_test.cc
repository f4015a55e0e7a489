#include <gtest/gtest.h>

#include "agent/http_api.h"
#include "agent/http_limits.h"

namespace ringd::agent {
namespace {

using Json = nlohmann::json;

class HttpApiTest : public ::testing::Test {
 protected:
  HttpApiTest() : node_(make_config(), 1), publisher_(ring::Options{}) {
    node_.start(gossip::Time{}, {});
    publisher_.rebuild(node_.members());
    sources_.node = &node_;
    sources_.ring = &publisher_;
    sources_.ready = [] { return true; };
    sources_.metrics = [] { return Json{{"resp", {{"commands", 0}}}}; };
  }
  static gossip::Config make_config() {
    gossip::Config c;
    c.name = "n1";
    c.advertise = "127.0.0.1:7946";
    c.service = "127.0.0.1:9001";
    return c;
  }
  HttpResponse get(const std::string& target, http::verb verb = http::verb::get) {
    HttpRequest request{verb, target, 11};
    return handle_api(request, sources_);
  }

  gossip::Node node_;
  RingPublisher publisher_;
  ApiSources sources_;
};

TEST_F(HttpApiTest, Members) {
  auto r = get("/members");
  EXPECT_EQ(r.result(), http::status::ok);
  EXPECT_EQ(r[http::field::content_type], "application/json");
  auto body = Json::parse(r.body());
  EXPECT_EQ(body["self"], "n1");
  ASSERT_EQ(body["members"].size(), 1u);
  EXPECT_EQ(body["members"][0]["state"], "alive");
  EXPECT_EQ(body["members"][0]["service"], "127.0.0.1:9001");
  EXPECT_EQ(body["members"][0]["address"], "127.0.0.1:7946");
}

TEST_F(HttpApiTest, RingAndLookup) {
  auto ring = Json::parse(get("/ring").body());
  EXPECT_EQ(ring["nodes"], Json::array({"127.0.0.1:9001"}));
  EXPECT_EQ(ring["checksum"].get<std::string>().size(), 16u);
  EXPECT_EQ(ring["weights"], Json::object());  // an object even when every weight is 1
  auto lookup = Json::parse(get("/lookup?key=%2Fdocuments%2Fa+b").body());
  EXPECT_EQ(lookup["key"], "/documents/a b");
  EXPECT_EQ(lookup["node"], "127.0.0.1:9001");
  EXPECT_EQ(get("/lookup").result(), http::status::bad_request);
  EXPECT_EQ(get("/lookup?key=%zz").result(), http::status::bad_request);
}

TEST_F(HttpApiTest, HealthFollowsReadiness) {
  EXPECT_EQ(get("/health").result(), http::status::ok);
  EXPECT_EQ(Json::parse(get("/health").body()), (Json{{"status", "ok"}, {"self", "n1"}}));
  sources_.ready = [] { return false; };
  EXPECT_EQ(get("/health").result(), http::status::service_unavailable);
  EXPECT_EQ(Json::parse(get("/health").body()), (Json{{"status", "joining"}, {"self", "n1"}}));
}

TEST_F(HttpApiTest, MembersShowServiceHealth) {
  auto body = Json::parse(get("/members").body());
  EXPECT_EQ(body["members"][0]["service_health"], "passing");
}

TEST_F(HttpApiTest, DrainIsAPostFromThisHostOnly) {
  std::vector<bool> calls;
  sources_.drain = [&](bool drain) {
    calls.push_back(drain);
    return drain ? gossip::ServiceState::kDraining : gossip::ServiceState::kPassing;
  };
  auto drained = handle_api(HttpRequest{http::verb::post, "/drain", 11}, sources_, true);
  EXPECT_EQ(drained.result(), http::status::ok);
  EXPECT_EQ(Json::parse(drained.body()), (Json{{"service", "127.0.0.1:9001"}, {"service_health", "draining"}}));
  auto back = handle_api(HttpRequest{http::verb::post, "/undrain", 11}, sources_, true);
  EXPECT_EQ(Json::parse(back.body())["service_health"], "passing");
  EXPECT_EQ(calls, (std::vector<bool>{true, false}));
  EXPECT_EQ(handle_api(HttpRequest{http::verb::post, "/drain", 11}, sources_, false).result(),
            http::status::forbidden);
  auto get_drain = get("/drain");
  EXPECT_EQ(get_drain.result(), http::status::method_not_allowed);
  EXPECT_EQ(get_drain[http::field::allow], "POST");
  EXPECT_EQ(calls.size(), 2u);
  sources_.drain = nullptr;
  EXPECT_EQ(handle_api(HttpRequest{http::verb::post, "/drain", 11}, sources_, true).result(),
            http::status::conflict);
}

TEST_F(HttpApiTest, ErrorsAreJson) {
  auto missing = get("/nope");
  EXPECT_EQ(missing.result(), http::status::not_found);
  EXPECT_TRUE(Json::parse(missing.body()).contains("error"));
  auto post = get("/members", http::verb::post);
  EXPECT_EQ(post.result(), http::status::method_not_allowed);
  EXPECT_EQ(post[http::field::allow], "GET, HEAD");
  EXPECT_TRUE(Json::parse(post.body()).contains("error"));
}

TEST_F(HttpApiTest, KeysThatAreNotUtf8AreLookedUp) {
  auto r = get("/lookup?key=%FF%FEa");
  ASSERT_EQ(r.result(), http::status::ok);
  auto body = Json::parse(r.body());
  EXPECT_EQ(body["key"], "\xEF\xBF\xBD\xEF\xBF\xBD" "a");  // U+FFFD twice
  EXPECT_EQ(body["node"], "127.0.0.1:9001");
}

// The status a request over a limit gets (agent/http_limits.h).
TEST(HttpRejectionTest, StatusByParserErrorAndWhereItStopped) {
  const HttpLimits limits;
  auto status = [&](http::error e, HttpParseState state) {
    return http_rejection(make_error_code(e), state, limits).status;
  };
  const HttpParseState no_line{};
  const HttpParseState short_line{.start_line_read = true, .header_done = false, .target_size = 10};
  const HttpParseState long_line{.start_line_read = true, .header_done = false,
                                 .target_size = limits.target_bytes + 1};
  const HttpParseState whole_header{.start_line_read = true, .header_done = true, .target_size = 10};
  // Over the header limit: 414 while the request line is the culprit, else 431.
  EXPECT_EQ(status(http::error::header_limit, no_line), http::status::uri_too_long);
  EXPECT_EQ(status(http::error::header_limit, long_line), http::status::uri_too_long);
  EXPECT_EQ(status(http::error::header_limit, short_line), http::status::request_header_fields_too_large);
  EXPECT_EQ(status(http::error::buffer_overflow, short_line), http::status::request_header_fields_too_large);
  EXPECT_EQ(status(http::error::body_limit, whole_header), http::status::payload_too_large);
  EXPECT_EQ(status(http::error::buffer_overflow, whole_header), http::status::payload_too_large);
  for (auto e : {http::error::bad_method, http::error::bad_target, http::error::bad_version, http::error::bad_field,
                 http::error::bad_value, http::error::bad_content_length, http::error::bad_chunk,
                 http::error::bad_line_ending}) {
    EXPECT_EQ(status(e, no_line), http::status::bad_request) << make_error_code(e).message();
  }
  EXPECT_EQ(http_rejection(make_error_code(http::error::header_limit), short_line, limits).counter,
            "rejected_header_too_large");
  EXPECT_EQ(http_target_too_long().status, http::status::uri_too_long);
}

TEST(UrlDecodeTest, Cases) {
  EXPECT_EQ(url_decode("a%2Fb+c"), "a/b c");
  EXPECT_EQ(url_decode("%41"), "A");
  EXPECT_FALSE(url_decode("%4"));
  EXPECT_FALSE(url_decode("%"));
  EXPECT_FALSE(url_decode("%g1"));
  EXPECT_EQ(query_param("/lookup?a=1&key=x%20y&z", "key"), "x y");
  EXPECT_FALSE(query_param("/lookup?a=1", "key"));
  EXPECT_EQ(query_param("/lookup?key", "key"), "");
}

TEST_F(HttpApiTest, MetricsAsPrometheusTextAndAsJson) {
  // Without a Prometheus source /metrics is the JSON document.
  EXPECT_EQ(get("/metrics")[http::field::content_type], "application/json");
  sources_.prometheus = [] { return std::string("ringd_up 1\n"); };
  auto text = get("/metrics");
  EXPECT_EQ(text.result(), http::status::ok);
  EXPECT_EQ(text[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(text.body(), "ringd_up 1\n");
  auto json = get("/metrics.json");
  EXPECT_EQ(json[http::field::content_type], "application/json");
  EXPECT_EQ(Json::parse(json.body())["resp"]["commands"], 0);
  EXPECT_EQ(get("/metrics.json", http::verb::post).result(), http::status::method_not_allowed);
}

TEST_F(HttpApiTest, KeyringListAndChanges) {
  auto post = [&](const std::string& path, const std::string& body, bool local = true) {
    HttpRequest request{http::verb::post, path, 11};
    request.body() = body;
    return handle_api(request, sources_, local);
  };
  // Without a keyring: a conflict, not a 404.
  EXPECT_EQ(get("/keyring").result(), http::status::conflict);
  Key k1{}, k2{};
  k1.fill(1);
  k2.fill(2);
  GossipSecurity plaintext({});
  sources_.security = &plaintext;
  EXPECT_EQ(get("/keyring").result(), http::status::conflict);
  // With a keyring, GET lists it. This node has no "keyring" tag, so no
  // member counts as holding a key.
  SecurityConfig config;
  config.keyring = Keyring(k1);
  GossipSecurity security(config);
  sources_.security = &security;
  security.install(encode_key(k2));
  auto list = get("/keyring");
  ASSERT_EQ(list.result(), http::status::ok) << list.body();
  auto body = Json::parse(list.body());
  ASSERT_EQ(body["keys"].size(), 2u);
  EXPECT_EQ(body["keys"][0]["key"], encode_key(k1));
  EXPECT_EQ(body["keys"][0]["primary"], true);
  EXPECT_EQ(body["keys"][0]["fingerprint"], key_fingerprint(k1));
  EXPECT_EQ(body["members"], 1);
  EXPECT_EQ(body["keys"][1]["installed_on"], 0);

  EXPECT_EQ(handle_api(HttpRequest{http::verb::get, "/keyring", 11}, sources_, false).result(),
            http::status::forbidden);
  EXPECT_EQ(post("/keyring/install", "{}", false).result(), http::status::forbidden);
  EXPECT_EQ(post("/keyring", "{}").result(), http::status::method_not_allowed);
  EXPECT_EQ(get("/keyring/use").result(), http::status::method_not_allowed);
  EXPECT_EQ(post("/keyring/install", "not json").result(), http::status::bad_request);
  EXPECT_EQ(post("/keyring/install", R"({"key": 5})").result(), http::status::bad_request);
  EXPECT_EQ(post("/keyring/install", R"({"key": "short"})").result(), http::status::bad_request);
  const std::string use2 = Json{{"key", encode_key(k2)}}.dump();
  // n1 (this node) does not list k2 in a "keyring" tag: refused unless forced.
  auto refused = post("/keyring/use", use2);
  EXPECT_EQ(refused.result(), http::status::conflict);
  EXPECT_NE(refused.body().find("n1"), std::string::npos);
  EXPECT_EQ(post("/keyring/use", Json{{"key", encode_key(k2)}, {"force", "yes"}}.dump()).result(),
            http::status::bad_request);
  auto forced = post("/keyring/use", Json{{"key", encode_key(k2)}, {"force", true}}.dump());
  ASSERT_EQ(forced.result(), http::status::ok) << forced.body();
  EXPECT_EQ(Json::parse(forced.body())["changed"], true);
  EXPECT_EQ(Json::parse(forced.body())["keys"][0]["key"], encode_key(k2));
  auto primary = post("/keyring/remove", use2);
  EXPECT_EQ(primary.result(), http::status::bad_request);
  EXPECT_NE(primary.body().find("primary"), std::string::npos);
  auto removed = post("/keyring/remove", Json{{"key", encode_key(k1)}}.dump());
  ASSERT_EQ(removed.result(), http::status::ok) << removed.body();
  EXPECT_EQ(Json::parse(removed.body())["keys"].size(), 1u);
}

TEST_F(HttpApiTest, OperatorRequestsAreCheckedAndLocalOnly) {
  auto post = [&](const std::string& path, const std::string& body, bool local = true) {
    HttpRequest request{http::verb::post, path, 11};
    request.body() = body;
    return handle_api(request, sources_, local);
  };
  EXPECT_EQ(post("/join", "{}").result(), http::status::not_found);  // not wired: no such path
  std::vector<std::string> joined;
  sources_.join = [&](std::vector<std::string> a) {
    joined = a;
    return a.size();
  };
  sources_.force_leave = [](const std::string& name) {
    return name == "n9" ? gossip::Node::ForceLeave::kUnknown : gossip::Node::ForceLeave::kNotFailed;
  };
  EXPECT_EQ(post("/join", R"({"addresses": ["127.0.0.1:7000"]})", false).result(), http::status::forbidden);
  EXPECT_EQ(handle_api(HttpRequest{http::verb::get, "/join", 11}, sources_).result(), http::status::method_not_allowed);
  EXPECT_EQ(post("/join", "[1]").result(), http::status::bad_request);
  EXPECT_EQ(post("/join", R"({"addresses": []})").result(), http::status::bad_request);
  EXPECT_EQ(post("/join", R"({"addresses": ["seed.example:7946"]})").result(), http::status::bad_request);
  auto ok = post("/join", R"({"addresses": ["[::1]:7000", "127.0.0.1:7001"]})");
  ASSERT_EQ(ok.result(), http::status::ok) << ok.body();
  EXPECT_EQ(joined, (std::vector<std::string>{"[::1]:7000", "127.0.0.1:7001"}));
  EXPECT_EQ(Json::parse(ok.body())["asked"], 2);
  EXPECT_EQ(post("/force-leave", R"({"name": "n9"})").result(), http::status::not_found);
  auto alive = post("/force-leave", R"({"name": "n2"})");
  EXPECT_EQ(alive.result(), http::status::conflict);
  EXPECT_NE(alive.body().find("not failed"), std::string::npos);
  EXPECT_EQ(post("/force-leave", R"({"name": 2})").result(), http::status::bad_request);
}

TEST(EventLogTest, NumbersEventsAndSaysWhatAReaderMissed) {
  EventLog log;
  EXPECT_EQ(log.since(0)["events"].size(), 0u);
  for (int i = 0; i < 10; ++i) log.add({{"kind", "member"}, {"i", i}});
  auto all = log.since(0);
  ASSERT_EQ(all["events"].size(), 10u);
  EXPECT_EQ(all["events"][0]["seq"], 1);
  EXPECT_EQ(all["next"], 10);
  EXPECT_EQ(all["missed"], 0);
  auto tail = log.since(7);
  ASSERT_EQ(tail["events"].size(), 3u);
  EXPECT_EQ(tail["events"][0]["i"], 7);
  EXPECT_EQ(log.since(10)["events"].size(), 0u);
  EXPECT_EQ(log.since(99)["next"], 10);  // a reader from an earlier run starts over at the end
  for (std::size_t i = 0; i < EventLog::kCapacity; ++i) log.add({{"kind", "ring"}});
  auto late = log.since(5, 2);
  EXPECT_EQ(late["missed"], 5);  // 6..10 are gone
  ASSERT_EQ(late["events"].size(), 2u);
  EXPECT_EQ(late["events"][0]["seq"], 11);
  EXPECT_EQ(late["next"], 12);
}

}  // namespace
}  // namespace ringd::agent
