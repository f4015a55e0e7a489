#include "agent/members_cli.h"

#include <iostream>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/program_options.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/address.h"
#include "agent/config.h"

namespace ringd::agent {
namespace beast = boost::beast;
namespace http = beast::http;
namespace po = boost::program_options;

namespace {

std::string fetch(const tcp::endpoint& endpoint, const std::string& target) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(endpoint);
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, "ringd");
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (response.result() != http::status::ok) {
    throw std::runtime_error("agent answered HTTP " + std::to_string(response.result_int()));
  }
  return response.body();
}

std::string text_or_dash(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : "-"; }

}  // namespace

int run_members(const std::vector<std::string>& args) {
  po::options_description desc("ringd members options");
  desc.add_options()("help,h", "show this help")(
      "http", po::value<std::string>()->default_value("127.0.0.1:7948"), "the agent's HTTP API IP:PORT");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "ringd members: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "usage: ringd members [--http IP:PORT]\n\n" << desc;
    return 0;
  }
  auto address = vm["http"].as<std::string>();
  auto ep = parse_endpoint(address);
  if (!ep) {
    std::cerr << "ringd members: --http " << address << ": expected IP:PORT\n";
    return 2;
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(fetch(tcp::endpoint(ep->address(), ep->port()), "/members"));
  } catch (const std::exception& e) {
    std::cerr << "ringd members: cannot read members from " << address << ": " << e.what() << "\n";
    return 1;
  }
  std::vector<std::array<std::string, 5>> rows{{"Node", "Address", "State", "Incarnation", "Service"}};
  for (const auto& m : doc.value("members", nlohmann::json::array())) {
    rows.push_back({text_or_dash(m["name"]), text_or_dash(m["address"]), text_or_dash(m["state"]),
                    std::to_string(m.value("incarnation", 0ULL)), text_or_dash(m["service"])});
  }
  std::array<std::size_t, 5> width{};
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
  return 0;
}

}  // namespace ringd::agent
