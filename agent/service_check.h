// agent/service_check.h — the agent checks its own --service.
//
// Every `interval` one check, bounded by `timeout`: a TCP connect (kind
// kTcp), or an HTTP/1.1 GET of `path` that must answer 2xx (kHttp). Each
// result goes to the callback with a short reason ("connect: Connection
// refused", "HTTP 503", "no answer within 200 ms"). Runs on the agent's
// io_context; checks never overlap.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/asio.h"

namespace ringd::agent {

struct ServiceCheckSpec {
  enum class Kind { kNone, kTcp, kHttp };
  Kind kind = Kind::kTcp;
  std::string path;  // kHttp: the path to GET, starting with '/'
  std::chrono::milliseconds interval{250};
  std::chrono::milliseconds timeout{200};
  int rise = 2;
  int fall = 2;
};

// "tcp", "none" or "http:/path"; nullopt (and *why) for anything else.
std::optional<ServiceCheckSpec> parse_service_check(const std::string& text, std::string* why);

class ServiceChecker {
 public:
  using Result = std::function<void(bool passed, const std::string& reason)>;
  ServiceChecker(asio::io_context& io, tcp::endpoint service, ServiceCheckSpec spec, Result on_result);
  ~ServiceChecker();
  void start();  // the first check runs at once
  void stop();

 private:
  asio::awaitable<void> run();
  asio::awaitable<std::string> check_once();  // "" = passed, else the reason

  asio::io_context& io_;
  tcp::endpoint service_;
  ServiceCheckSpec spec_;
  Result on_result_;
  std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
};

}  // namespace ringd::agent
