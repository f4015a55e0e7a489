// resp/cmd_server.cc — INFO, COMMAND and CONFIG GET: what redis-cli,
// redis-benchmark and client libraries ask a server about itself.
//
//   INFO [section ...]   -> bulk (RESP3: verbatim) text, Redis's layout:
//                           "# Server\r\nfield:value\r\n...\r\n\r\n# Clients..."
//                           sections server, clients, stats, ring, members;
//                           "all", "default", "everything" or none: all five
//   COMMAND              -> COMMAND INFO of every command
//   COMMAND COUNT | LIST | INFO [name ...] | DOCS [name ...] | HELP
//   CONFIG GET pattern [pattern ...]
//                        -> the few parameters clients look for (save,
//                           appendonly, databases), glob patterns allowed
#include <array>
#include <cstdint>
#include <string>

#include "resp/command_table.h"
#include "resp/handlers.h"
#include "resp/writer.h"

namespace ringd::resp {
namespace {

constexpr std::array<std::string_view, 5> kInfoSections{"server", "clients", "stats", "ring", "members"};

void info_field(std::string& text, std::string_view name, std::uint64_t value) {
  text.append(name).push_back(':');
  text.append(std::to_string(value)).append("\r\n");
}

void append_stats_section(const Stats& s, std::uint64_t batch_commands, std::string& text) {
  auto get = [](const auto& counter) { return static_cast<std::uint64_t>(counter.load(std::memory_order_relaxed)); };
  text.append("# Stats\r\n");
  info_field(text, "total_connections_received", get(s.connections_received));
  info_field(text, "total_commands_processed", get(s.commands) + batch_commands);
  info_field(text, "rejected_connections", get(s.connections_rejected));
  info_field(text, "unknown_commands", get(s.unknown_commands));
  info_field(text, "wrong_arity_errors", get(s.wrong_arity));
  info_field(text, "protocol_errors", get(s.protocol_errors));
  info_field(text, "auth_failures", get(s.auth_failures));
  info_field(text, "noauth_rejections", get(s.noauth_rejections));
  info_field(text, "client_query_buffer_limit_disconnections", get(s.query_buffer_overflows));
  info_field(text, "client_output_buffer_limit_disconnections", get(s.output_buffer_drops));
  info_field(text, "idle_timeout_disconnections", get(s.idle_timeouts));
  info_field(text, "cross_protocol_disconnections", get(s.cross_protocol));
}

bool append_section(std::string_view name, Context& ctx, std::string& text) {
  const std::size_t before = text.size();
  if (before > 0) text.append("\r\n");
  const bool ok = name == "stats" ? (append_stats_section(ctx.stats, ctx.batch_commands, text), true)
                                  : ctx.backend.info_section(name, text);
  if (!ok) text.resize(before);
  return ok;
}

// Space-separated words of `list` as a RESP3 set (RESP2: array) of simple strings.
void append_word_set(std::string& out, std::string_view list, int proto) {
  std::array<std::string_view, 16> words{};
  std::size_t n = 0;
  while (!list.empty() && n < words.size()) {
    const std::size_t space = list.find(' ');
    const std::string_view word = list.substr(0, space);
    if (!word.empty()) words[n++] = word;
    list = space == std::string_view::npos ? std::string_view() : list.substr(space + 1);
  }
  append_set_header(out, n, proto);
  for (std::size_t i = 0; i < n; ++i) append_simple(out, words[i]);
}

// One COMMAND INFO entry: Redis 7.0's ten fields.
void append_command_info(std::string& out, const CommandSpec& cmd, int proto) {
  append_array_header(out, 10);
  append_bulk(out, cmd.name);
  append_integer(out, cmd.arity);
  append_word_set(out, cmd.flags, proto);
  append_integer(out, cmd.first_key);
  append_integer(out, cmd.last_key);
  append_integer(out, cmd.key_step);
  append_word_set(out, cmd.acl, proto);
  append_set_header(out, 0, proto);  // tips
  append_array_header(out, 0);       // key specs
  append_array_header(out, cmd.subcommands.size());
  for (const CommandSpec& sub : cmd.subcommands) append_command_info(out, sub, proto);
}

void append_command_docs(std::string& out, const CommandSpec& cmd, int proto) {
  append_bulk(out, cmd.name);
  append_map_header(out, cmd.subcommands.empty() ? 3 : 4, proto);
  append_bulk(out, "summary");
  append_bulk(out, cmd.summary);
  append_bulk(out, "since");
  append_bulk(out, cmd.since);
  append_bulk(out, "group");
  append_bulk(out, cmd.group);
  if (!cmd.subcommands.empty()) {
    append_bulk(out, "subcommands");
    append_map_header(out, cmd.subcommands.size(), proto);
    for (const CommandSpec& sub : cmd.subcommands) append_command_docs(out, sub, proto);
  }
}

// "container|sub" or a top-level name, case-insensitive.
const CommandSpec* find_by_full_name(std::string_view name) {
  const std::size_t bar = name.find('|');
  const CommandSpec* cmd = find_command(name.substr(0, bar));
  if (cmd == nullptr || bar == std::string_view::npos) return cmd;
  return find_subcommand(*cmd, name.substr(bar + 1));
}

// stringmatchlen() for the patterns clients send: '*', '?' and literals,
// case-insensitive (CONFIG GET matches parameter names with nocase).
bool glob_match(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern[0] == '*') {
    // Runs of '*' act as one, so recursion depth stays within 2 * text size.
    while (pattern.size() > 1 && pattern[1] == '*') pattern.remove_prefix(1);
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (glob_match(pattern.substr(1), text.substr(i))) return true;
    }
    return false;
  }
  if (text.empty()) return false;
  const char p = pattern[0] >= 'A' && pattern[0] <= 'Z' ? static_cast<char>(pattern[0] - 'A' + 'a') : pattern[0];
  if (p != '?' && p != text[0]) return false;
  return glob_match(pattern.substr(1), text.substr(1));
}

}  // namespace

Outcome cmd_info(Args args, Context& ctx) {
  std::string text;
  text.reserve(1024);
  std::array<bool, kInfoSections.size()> want{};
  bool any = args.size() == 1;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view arg = c_prefix(args[i], args[i].size());
    if (equals_nocase(arg, "all") || equals_nocase(arg, "default") || equals_nocase(arg, "everything")) {
      any = true;
      continue;
    }
    for (std::size_t s = 0; s < kInfoSections.size(); ++s) {
      if (equals_nocase(arg, kInfoSections[s])) want[s] = true;
    }
  }
  for (std::size_t s = 0; s < kInfoSections.size(); ++s) {
    if (any || want[s]) append_section(kInfoSections[s], ctx, text);
  }
  append_verbatim(ctx.out, text, ctx.client.proto);
  return Outcome::kContinue;
}

Outcome cmd_command(Args, Context& ctx) {
  const auto all = all_commands();
  append_array_header(ctx.out, all.size());
  for (const CommandSpec& cmd : all) append_command_info(ctx.out, cmd, ctx.client.proto);
  return Outcome::kContinue;
}

Outcome cmd_command_count(Args, Context& ctx) {
  append_integer(ctx.out, static_cast<std::int64_t>(all_commands().size()));
  return Outcome::kContinue;
}

Outcome cmd_command_list(Args args, Context& ctx) {
  if (args.size() != 2) {  // FILTERBY is not supported
    append_error(ctx.out, "ERR syntax error");
    return Outcome::kContinue;
  }
  std::size_t n = 0;
  for (const CommandSpec& cmd : all_commands()) n += 1 + cmd.subcommands.size();
  append_array_header(ctx.out, n);
  for (const CommandSpec& cmd : all_commands()) {
    append_bulk(ctx.out, cmd.name);
    for (const CommandSpec& sub : cmd.subcommands) append_bulk(ctx.out, sub.name);
  }
  return Outcome::kContinue;
}

Outcome cmd_command_info(Args args, Context& ctx) {
  if (args.size() == 2) return cmd_command(args, ctx);
  append_array_header(ctx.out, args.size() - 2);
  for (std::size_t i = 2; i < args.size(); ++i) {
    const CommandSpec* cmd = find_by_full_name(args[i]);
    if (cmd == nullptr) {
      append_null(ctx.out, ctx.client.proto);
    } else {
      append_command_info(ctx.out, *cmd, ctx.client.proto);
    }
  }
  return Outcome::kContinue;
}

Outcome cmd_command_docs(Args args, Context& ctx) {
  const int proto = ctx.client.proto;
  if (args.size() == 2) {
    const auto all = all_commands();
    append_map_header(ctx.out, all.size(), proto);
    for (const CommandSpec& cmd : all) append_command_docs(ctx.out, cmd, proto);
    return Outcome::kContinue;
  }
  std::size_t found = 0;
  for (std::size_t i = 2; i < args.size(); ++i) found += find_by_full_name(args[i]) != nullptr;
  append_map_header(ctx.out, found, proto);
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (const CommandSpec* cmd = find_by_full_name(args[i])) append_command_docs(ctx.out, *cmd, proto);
  }
  return Outcome::kContinue;
}

Outcome cmd_command_help(Args, Context& ctx) {
  constexpr std::array<std::string_view, 10> kLines{
      "(no subcommand)",
      "    Return details about all commands.",
      "COUNT",
      "    Return the total number of commands.",
      "DOCS [<command-name> ...]",
      "    Return documentation details about multiple commands.",
      "INFO [<command-name> ...]",
      "    Return details about multiple commands.",
      "LIST",
      "    Return a list of all commands.",
  };
  append_help(ctx.out, "command", kLines);
  return Outcome::kContinue;
}

Outcome cmd_config_get(Args args, Context& ctx) {
  struct Param {
    std::string_view name, value;
  };
  const std::string databases = std::to_string(ctx.backend.databases());
  const std::array<Param, 3> kParams{{{"save", ""}, {"appendonly", "no"}, {"databases", databases}}};
  std::array<bool, kParams.size()> hit{};
  std::size_t n = 0;
  for (std::size_t i = 2; i < args.size(); ++i) {
    for (std::size_t p = 0; p < kParams.size(); ++p) {
      if (!hit[p] && glob_match(args[i], kParams[p].name)) {
        hit[p] = true;
        ++n;
      }
    }
  }
  append_map_header(ctx.out, n, ctx.client.proto);
  for (std::size_t p = 0; p < kParams.size(); ++p) {
    if (!hit[p]) continue;
    append_bulk(ctx.out, kParams[p].name);
    append_bulk(ctx.out, kParams[p].value);
  }
  return Outcome::kContinue;
}

Outcome cmd_config_help(Args, Context& ctx) {
  constexpr std::array<std::string_view, 2> kLines{
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
  };
  append_help(ctx.out, "config", kLines);
  return Outcome::kContinue;
}

}  // namespace ringd::resp
