#include "agent/metrics_text.h"

#include <map>
#include <set>

namespace ringd::agent {
namespace {

using Json = nlohmann::json;

// Where one JSON counter goes: family name, type, and a label that tells it
// from its siblings ("reason" for drops, "type" for message types).
struct Series {
  std::string family;
  std::string type;  // counter | gauge
  std::string label_name, label_value;
};

bool starts(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Gossip counters of the node, the driver and GossipSecurity (see their
// counters()): most are event counts; these few are levels.
Series gossip_series(const std::string& key) {
  static const std::set<std::string, std::less<>> gauges = {"members_known", "members_live", "broadcast_queue",
                                                            "awareness", "streams_open", "keys_installed",
                                                            "event_handler_queued"};
  if (gauges.count(key)) return {"ringd_gossip_" + key, "gauge", {}, {}};
  static const std::map<std::string, std::string, std::less<>> malformed = {
      {"malformed_oversize", "oversize"},
      {"malformed_decode", "decode"},
      {"bad_version", "bad_version"},
      {"malformed_too_many", "too_many"},
      {"malformed_bad_field", "bad_field"}};
  if (auto it = malformed.find(key); it != malformed.end()) {
    return {"ringd_gossip_malformed_total", "counter", "reason", it->second};
  }
  if (starts(key, "crypto_dropped_")) {
    return {"ringd_gossip_crypto_dropped_total", "counter", "reason", key.substr(15)};
  }
  if (const auto dot = key.find('.'); dot != std::string::npos) {  // "messages_sent.ping"
    return {"ringd_gossip_" + key.substr(0, dot) + "_total", "counter", "type", key.substr(dot + 1)};
  }
  return {"ringd_gossip_" + key + "_total", "counter", {}, {}};
}

Series resp_series(const std::string& key) {
  if (key == "connections_open") return {"ringd_resp_connections_open", "gauge", {}, {}};
  return {"ringd_resp_" + key + "_total", "counter", {}, {}};
}

Series http_series(const std::string& key) {
  if (key == "connections_open" || key == "max_connections") return {"ringd_http_" + key, "gauge", {}, {}};
  if (starts(key, "rejected_")) return {"ringd_http_rejected_total", "counter", "reason", key.substr(9)};
  return {"ringd_http_" + key + "_total", "counter", {}, {}};
}

std::string help_for(const std::string& family) {
  static const std::map<std::string, std::string, std::less<>> help = {
      {"ringd_gossip_malformed_total", "Gossip input dropped as malformed, by reason."},
      {"ringd_gossip_crypto_dropped_total",
       "Gossip messages dropped by encryption, by reason (plaintext refused, auth_failed: wrong key or label, "
       "replayed, ...)."},
      {"ringd_gossip_messages_sent_total", "Gossip messages sent in datagrams, by type."},
      {"ringd_gossip_messages_received_total", "Gossip messages received in datagrams, by type."},
      {"ringd_gossip_message_bytes_sent_total", "Encoded bytes of gossip messages sent, by type."},
      {"ringd_gossip_message_bytes_received_total", "Encoded bytes of gossip messages received, by type."},
      {"ringd_gossip_members_live", "Members alive or suspect, self included."},
      {"ringd_gossip_awareness", "Lifeguard local health score (0 is healthy)."},
      {"ringd_http_rejected_total", "HTTP requests or connections refused, by reason."},
  };
  if (auto it = help.find(family); it != help.end()) return it->second;
  std::string words = family.substr(6);  // drop "ringd_"
  for (char& c : words) c = c == '_' ? ' ' : c;
  return "ringd " + words + " (see /metrics.json).";
}

// Writes one JSON section's numbers as Prometheus families, grouped so each
// family's samples are together.
void section(PromText& t, const Json& doc, const char* name, Series (*map)(const std::string&)) {
  if (!doc.contains(name) || !doc[name].is_object()) return;
  std::map<std::string, std::vector<std::pair<Series, double>>> families;  // by family name
  for (const auto& [key, value] : doc[name].items()) {
    if (!value.is_number()) continue;
    Series s = map(key);
    families[s.family].emplace_back(std::move(s), value.get<double>());
  }
  for (const auto& [family, samples] : families) {
    t.family(family, samples.front().first.type, help_for(family));
    for (const auto& [s, value] : samples) {
      if (s.label_name.empty()) {
        t.sample(value);
      } else {
        t.sample({{s.label_name, s.label_value}}, value);
      }
    }
  }
}

void ring_families(PromText& t, const MetricsInputs& in) {
  t.family("ringd_ring_rebuilds_total", "counter", "Ring rebuilds that changed a ring.");
  t.sample(static_cast<double>(in.ring_rebuilds));
  t.family("ringd_ring_builds_total", "counter",
           "Membership changes that changed the rings' input (endpoints, weights, services) and so built rings.");
  t.sample(static_cast<double>(in.ring_builds));
  t.family("ringd_ring_rebuild_duration_seconds", "histogram",
           "Time to rebuild the rings after a membership change (every one; those that leave the rings' input as it was build nothing).");
  t.histogram({}, in.ring_rebuild_time);
  if (!in.rings) return;
  struct Named {
    std::string name, db;
    const ring::Ring* ring;
  };
  std::vector<Named> rings = {{"*", "0", in.rings->all.get()}};
  for (std::size_t i = 0; i < in.rings->services.size(); ++i) {
    rings.push_back({in.rings->services[i], std::to_string(i + 1), in.rings->rings[i].get()});
  }
  t.family("ringd_ring_info", "gauge",
           "One per ring: ring=\"*\" (db 0) holds every endpoint, db N the service ring N (RESP SELECT N); value 1.");
  for (const auto& r : rings) {
    t.sample({{"ring", r.name}, {"db", r.db}, {"checksum", r.ring->checksum()},
              {"mode", ring::to_string(r.ring->mode())}},
             1);
  }
  t.family("ringd_ring_nodes", "gauge", "Endpoints on each ring.");
  for (const auto& r : rings) t.sample({{"ring", r.name}, {"db", r.db}}, static_cast<double>(r.ring->nodes().size()));
}

}  // namespace

std::string prometheus_metrics(const MetricsInputs& in) {
  PromText t;
  t.family("ringd_build_info", "gauge", "The running ringd's version; value 1.");
  t.sample({{"version", in.version}}, 1);

  std::map<gossip::MemberState, int> by_state = {{gossip::MemberState::kAlive, 0},
                                                 {gossip::MemberState::kSuspect, 0},
                                                 {gossip::MemberState::kDead, 0},
                                                 {gossip::MemberState::kLeft, 0}};
  std::map<gossip::ServiceState, int> by_health = {{gossip::ServiceState::kPassing, 0},
                                                   {gossip::ServiceState::kFailing, 0},
                                                   {gossip::ServiceState::kDraining, 0},
                                                   {gossip::ServiceState::kUnchecked, 0}};
  for (const auto& m : in.members) {
    ++by_state[m.state];
    const bool live = m.state == gossip::MemberState::kAlive || m.state == gossip::MemberState::kSuspect;
    if (live && !m.service.empty()) ++by_health[m.service_state];
  }
  t.family("ringd_members", "gauge", "Members by state, as this agent sees them (self included).");
  for (const auto& [state, n] : by_state) t.sample({{"state", gossip::to_string(state)}}, n);
  t.family("ringd_member_services", "gauge",
           "Services of live members by health; only passing ones are on the rings.");
  for (const auto& [health, n] : by_health) t.sample({{"health", gossip::to_string(health)}}, n);
  if (!in.service.empty()) {
    t.family("ringd_service_health", "gauge",
             "This agent's own service (--service): 1 for its current health, 0 for the others.");
    for (const auto& [health, n] : by_health) {
      (void)n;
      t.sample({{"service", in.service}, {"health", gossip::to_string(health)}}, health == in.service_state ? 1 : 0);
    }
  }

  section(t, in.counters, "gossip", gossip_series);
  section(t, in.counters, "resp", resp_series);
  t.family("ringd_resp_command_calls_total", "counter", "RESP commands run, by command (as INFO commandstats).");
  for (const auto& c : in.commands) {
    if (c.name != "pipeline") t.sample({{"command", c.name}}, static_cast<double>(c.calls));
  }
  t.family("ringd_resp_command_duration_seconds", "histogram",
           "Time to run the commands of one read from a client (parse, look up, encode; no socket I/O), by "
           "command when the read held one command, command=\"pipeline\" when it held several.");
  for (const auto& c : in.commands) {
    if (c.latency.count != 0) t.histogram({{"command", c.name}}, c.latency);
  }
  section(t, in.counters, "http", http_series);
  ring_families(t, in);
  return t.take();
}

}  // namespace ringd::agent
