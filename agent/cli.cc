#include "agent/cli.h"

#include <algorithm>
#include <iostream>

#include "agent/address.h"
#include "agent/http_client.h"

namespace ringd::agent {
namespace po = boost::program_options;

CliArgs parse_cli(const std::vector<std::string>& args, const CliSpec& spec, const po::options_description& own) {
  CliArgs out;
  po::options_description desc("ringd " + spec.name + " options");
  desc.add_options()("help,h", "show this help")(
      "http", po::value<std::string>()->default_value("127.0.0.1:7948"), "the agent's HTTP API IP:PORT");
  desc.add(own);
  po::options_description all;
  all.add(desc).add_options()("words", po::value<std::vector<std::string>>());
  po::positional_options_description positional;
  positional.add("words", -1);
  try {
    const auto style = po::command_line_style::default_style | po::command_line_style::allow_long_disguise;
    po::store(po::command_line_parser(args).options(all).positional(positional).style(style).run(), out.vm);
    po::notify(out.vm);
  } catch (const po::error& e) {
    std::cerr << "ringd " << spec.name << ": " << e.what() << "\n";
    out.exit_code = 2;
    return out;
  }
  if (out.vm.count("help")) {
    std::cout << "usage: ringd " << spec.name << spec.usage << " [--http IP:PORT]\n\n" << spec.about << desc;
    return out;
  }
  if (out.vm.count("words")) out.words = out.vm["words"].as<std::vector<std::string>>();
  if (out.words.size() < spec.min_words || out.words.size() > spec.max_words) {
    std::cerr << "ringd " << spec.name << ": "
              << (out.words.size() < spec.min_words ? "expected a " + spec.words_name
                                                    : "unexpected argument '" + out.words.back() + "'")
              << " (usage: ringd " << spec.name << spec.usage << ")\n";
    out.exit_code = 2;
    return out;
  }
  out.agent_text = out.vm["http"].as<std::string>();
  const auto ep = parse_endpoint(out.agent_text);
  if (!ep) {
    std::cerr << "ringd " << spec.name << ": --http " << out.agent_text << ": expected IP:PORT\n";
    out.exit_code = 2;
    return out;
  }
  out.agent = tcp::endpoint(ep->address(), ep->port());
  out.ok = true;
  return out;
}

std::optional<nlohmann::json> call_agent(const CliArgs& cli, const std::string& name, const std::string& method,
                                         const std::string& target, const nlohmann::json& body) {
  HttpAnswer answer;
  try {
    answer = http_request(cli.agent, method, target, body.is_null() ? std::string() : body.dump());
  } catch (const std::exception& e) {
    std::cerr << "ringd " << name << ": cannot reach the agent at " << cli.agent_text << ": " << e.what() << "\n";
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(answer.body, nullptr, false);
  if (answer.status < 200 || answer.status > 299 || doc.is_discarded()) {
    std::cerr << "ringd " << name << ": "
              << (doc.is_object() && doc.contains("error") ? doc["error"].get<std::string>()
                                                            : "agent answered HTTP " + std::to_string(answer.status))
              << "\n";
    return std::nullopt;
  }
  return doc;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
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
}

}  // namespace ringd::agent
