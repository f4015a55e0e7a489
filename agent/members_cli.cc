#include "agent/members_cli.h"

#include <iostream>
#include <optional>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/address.h"
#include "agent/config.h"
#include "agent/http_client.h"

namespace ringd::agent {

namespace {

std::string text_or_dash(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : "-"; }

}  // namespace

int run_members(const std::vector<std::string>& args) {
  const AgentAddress agent = parse_agent_address(args, "members", "");
  if (!agent.endpoint) return agent.exit_code;
  const std::string& address = agent.text;
  nlohmann::json doc;
  try {
    const HttpAnswer answer = http_request(*agent.endpoint, "GET", "/members");
    if (answer.status != 200) throw std::runtime_error("agent answered HTTP " + std::to_string(answer.status));
    doc = nlohmann::json::parse(answer.body);
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

int run_drain(const std::vector<std::string>& args, bool drain) {
  const char* name = drain ? "drain" : "undrain";
  const AgentAddress agent =
      parse_agent_address(args, name,
                          drain ? "Takes this host's service off every ring (its agent stays a member).\n\n"
                                : "Puts this host's drained service back on the rings once its checks pass.\n\n");
  if (!agent.endpoint) return agent.exit_code;
  const std::string& address = agent.text;
  try {
    const HttpAnswer answer = http_request(*agent.endpoint, "POST", std::string("/") + name);
    const auto doc = nlohmann::json::parse(answer.body, nullptr, false);
    if (answer.status != 200) {
      std::cerr << "ringd " << name << ": " << (doc.is_object() ? doc.value("error", answer.body) : answer.body)
                << "\n";
      return 1;
    }
    std::cout << "service " << doc.value("service", "?") << ": " << doc.value("service_health", "?") << "\n";
  } catch (const std::exception& e) {
    std::cerr << "ringd " << name << ": cannot reach the agent at " << address << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace ringd::agent
