// agent/metrics_text.h — GET /metrics: the agent's metrics in the Prometheus
// text format. The counters come from the same JSON document /metrics.json
// serves (one source, two shapes); the rest (members by state, per-command
// RESP figures, ring rebuild times, rings, our service, build) is passed in.
// No I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/prometheus.h"
#include "agent/resp_server.h"
#include "agent/ring_publisher.h"
#include "gossip/node.h"

namespace ringd::agent {

struct MetricsInputs {
  nlohmann::json counters;  // the /metrics.json document: gossip, resp, http, ring
  std::vector<gossip::Member> members;
  std::vector<RespServer::CommandMetrics> commands;
  std::shared_ptr<const RingSet> rings;
  std::uint64_t ring_rebuilds = 0;               // rebuilds that changed a ring
  std::uint64_t ring_builds = 0;                 // rebuilds whose input changed (RingPublisher::builds)
  LatencyHistogram::Snapshot ring_rebuild_time;  // every rebuild, changed or not
  std::string service;                           // ours ("" = none)
  gossip::ServiceState service_state = gossip::ServiceState::kUnchecked;
  std::string version;
};

std::string prometheus_metrics(const MetricsInputs& in);

}  // namespace ringd::agent
