#include "agent/service_check.h"

#include <array>

#include "agent/deadline.h"

namespace ringd::agent {
namespace {

constexpr std::size_t kMaxStatusBytes = 4096;  // of the HTTP answer we read

// "HTTP/1.1 204 No Content\r\n..." -> 204; 0 when it is not a status line.
int status_code(std::string_view head) {
  if (head.size() < 12 || head.substr(0, 5) != "HTTP/" || head[8] != ' ') return 0;
  int code = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (head[i] < '0' || head[i] > '9') return 0;
    code = code * 10 + (head[i] - '0');
  }
  return code;
}

}  // namespace

std::optional<ServiceCheckSpec> parse_service_check(const std::string& text, std::string* why) {
  ServiceCheckSpec spec;
  if (text == "tcp") return spec;
  if (text == "none") {
    spec.kind = ServiceCheckSpec::Kind::kNone;
    return spec;
  }
  if (text.starts_with("http:")) {
    spec.kind = ServiceCheckSpec::Kind::kHttp;
    spec.path = text.substr(5);
    const bool printable = std::all_of(spec.path.begin(), spec.path.end(), [](char c) { return c > ' ' && c < 127; });
    if (!spec.path.starts_with('/') || !printable || spec.path.size() > 1024) {
      *why = "the path after http: must start with / and hold no spaces or control characters";
      return std::nullopt;
    }
    return spec;
  }
  *why = "expected tcp, http:/PATH or none";
  return std::nullopt;
}

ServiceChecker::ServiceChecker(asio::io_context& io, tcp::endpoint service, ServiceCheckSpec spec,
                               Result on_result)
    : io_(io), service_(std::move(service)), spec_(std::move(spec)), on_result_(std::move(on_result)) {}

ServiceChecker::~ServiceChecker() { stop(); }

void ServiceChecker::start() { asio::co_spawn(io_, run(), asio::detached); }

void ServiceChecker::stop() { *stopped_ = true; }

asio::awaitable<void> ServiceChecker::run() {
  auto stopped = stopped_;  // outlives `this` if the checker is destroyed mid-check
  asio::steady_timer timer(io_);
  while (!*stopped) {
    const auto started = std::chrono::steady_clock::now();
    std::string reason = co_await check_once();
    if (*stopped) co_return;
    on_result_(reason.empty(), reason);
    timer.expires_at(started + spec_.interval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<std::string> ServiceChecker::check_once() {
  auto socket = std::make_shared<tcp::socket>(io_);
  Deadline deadline(socket, spec_.timeout);
  const auto started = std::chrono::steady_clock::now();
  auto failure = [&](const char* step, const boost::system::error_code& ec) {
    if (std::chrono::steady_clock::now() - started >= spec_.timeout) {
      return "no answer within " + std::to_string(spec_.timeout.count()) + " ms";
    }
    return std::string(step) + ": " + ec.message();
  };
  boost::system::error_code ec;
  co_await socket->async_connect(service_, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failure("connect", ec);
  if (spec_.kind != ServiceCheckSpec::Kind::kHttp) co_return std::string();

  const std::string host = service_.address().is_v6() ? "[" + service_.address().to_string() + "]"
                                                      : service_.address().to_string();
  const std::string request = "GET " + spec_.path + " HTTP/1.1\r\nHost: " + host + ":" +
                              std::to_string(service_.port()) +
                              "\r\nUser-Agent: ringd-service-check\r\nConnection: close\r\n\r\n";
  co_await asio::async_write(*socket, asio::buffer(request), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failure("send", ec);
  std::array<char, kMaxStatusBytes> buffer{};
  std::size_t have = 0;
  while (have < 12) {
    const std::size_t n = co_await socket->async_read_some(asio::buffer(buffer.data() + have, buffer.size() - have),
                                                           asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return failure("read", ec);
    have += n;
  }
  const int code = status_code(std::string_view(buffer.data(), have));
  if (code == 0) co_return std::string("not an HTTP answer");
  if (code < 200 || code > 299) co_return "HTTP " + std::to_string(code);
  co_return std::string();
}

}  // namespace ringd::agent
