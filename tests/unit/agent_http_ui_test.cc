// GET /ui, the dashboard page (agent/http_ui.h).
#include <gtest/gtest.h>


#include "agent/http_ui.h"

namespace ringd::agent {
namespace {

TEST(HttpUiTest, ServesTheSelfContainedPage) {
  auto ui = handle_ui(HttpRequest{http::verb::get, "/ui", 11}, "/ui");
  ASSERT_TRUE(ui);
  EXPECT_EQ(ui->result(), http::status::ok);
  EXPECT_EQ((*ui)[http::field::content_type], "text/html; charset=utf-8");
  const std::string csp((*ui)["Content-Security-Policy"]);
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos);
  EXPECT_EQ((*ui)["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(ui->body(), std::string(ui_page()));
  EXPECT_NE(ui->body().find("<table aria-label=\"members\">"), std::string::npos);
  // Nothing is loaded from elsewhere: no external scripts, styles, images,
  // fetches (the SVG namespace name is an identifier, not a request).
  // (Plain substring checks: std::regex trips GCC 12's maybe-uninitialized
  // warning in the -O1 sanitizer build.)
  for (const char* external : {"src=\"http", "src='http", "src=\"//", "href=\"http", "href=\"//", "url(http",
                               "url(//", "url(\"http", "fetch(\"http", "fetch('http", "@import"}) {
    EXPECT_EQ(ui->body().find(external), std::string::npos) << external;
  }
  EXPECT_EQ(handle_ui(HttpRequest{http::verb::get, "/ui/", 11}, "/ui/")->result(), http::status::ok);
  auto root = handle_ui(HttpRequest{http::verb::get, "/", 11}, "/");
  EXPECT_EQ(root->result(), http::status::found);
  EXPECT_EQ((*root)[http::field::location], "/ui");
}

TEST(HttpUiTest, HeadAndOtherMethodsAndPaths) {
  auto head = handle_ui(HttpRequest{http::verb::head, "/ui", 11}, "/ui");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->result(), http::status::ok);
  EXPECT_EQ(handle_ui(HttpRequest{http::verb::post, "/ui", 11}, "/ui")->result(), http::status::method_not_allowed);
  EXPECT_FALSE(handle_ui(HttpRequest{http::verb::get, "/uix", 11}, "/uix"));
}

}  // namespace
}  // namespace ringd::agent
