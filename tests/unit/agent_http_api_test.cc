#include <gtest/gtest.h>

#include "agent/http_api.h"

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

}  // namespace
}  // namespace ringd::agent
