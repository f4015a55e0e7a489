#include "agent/http_client.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/program_options.hpp>

#include <iostream>

#include "agent/address.h"

namespace ringd::agent {
namespace beast = boost::beast;
namespace http = beast::http;
namespace po = boost::program_options;

HttpAnswer http_request(const tcp::endpoint& endpoint, const std::string& method, const std::string& target,
                        const std::string& json_body) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(endpoint);
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, "ringd");
  if (!json_body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = json_body;
  }
  request.prepare_payload();
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return {static_cast<int>(response.result_int()), response.body()};
}

AgentAddress parse_agent_address(const std::vector<std::string>& args, const std::string& name,
                                 const std::string& about, const std::string& usage_args) {
  po::options_description desc("ringd " + name + " options");
  desc.add_options()("help,h", "show this help")(
      "http", po::value<std::string>()->default_value("127.0.0.1:7948"), "the agent's HTTP API IP:PORT");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "ringd " << name << ": " << e.what() << "\n";
    return {std::nullopt, "", 2};
  }
  if (vm.count("help")) {
    std::cout << "usage: ringd " << name << usage_args << " [--http IP:PORT]\n\n" << about << desc;
    return {std::nullopt, "", 0};
  }
  const auto address = vm["http"].as<std::string>();
  const auto ep = parse_endpoint(address);
  if (!ep) {
    std::cerr << "ringd " << name << ": --http " << address << ": expected IP:PORT\n";
    return {std::nullopt, address, 2};
  }
  return {tcp::endpoint(ep->address(), ep->port()), address, 0};
}

}  // namespace ringd::agent
