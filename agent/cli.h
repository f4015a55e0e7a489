// agent/cli.h — what every CLI subcommand shares: its flags (--help, --http
// and its own, also written serf's way with one dash: -status alive), its
// words (a key, a name), calling the local agent's HTTP API, and tables.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "agent/asio.h"

namespace ringd::agent {

struct CliSpec {
  std::string name;    // "members"
  std::string usage;   // after "usage: ringd NAME": " KEY [-n N]"
  std::string about;   // --help text before the options
  std::size_t min_words = 0, max_words = 0;
  std::string words_name = "argument";  // "key", "address": for the error line
};

struct CliArgs {
  bool ok = false;     // false: exit with exit_code (0 after --help, 2 on bad usage)
  int exit_code = 0;
  tcp::endpoint agent;
  std::string agent_text;
  boost::program_options::variables_map vm;
  std::vector<std::string> words;
};

// Parses `args` against --help, --http IP:PORT and `own`; prints help or
// the one-line error itself.
CliArgs parse_cli(const std::vector<std::string>& args, const CliSpec& spec,
                  const boost::program_options::options_description& own = {});

// One request to the agent. On a connection failure or a non-2xx answer
// prints "ringd NAME: <why>" on stderr and returns nullopt (exit 1).
std::optional<nlohmann::json> call_agent(const CliArgs& cli, const std::string& name, const std::string& method,
                                         const std::string& target, const nlohmann::json& body = nullptr);

// Rows as aligned columns, two spaces apart (the first row a header).
void print_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace ringd::agent
