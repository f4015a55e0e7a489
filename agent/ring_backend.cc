#include "agent/ring_backend.h"

#include <unistd.h>

#include <algorithm>
#include <array>

#include "resp/version.h"
#include "resp/writer.h"

namespace ringd::agent {
namespace {

EncodedNodes encode_nodes(const ring::Ring& ring) {
  EncodedNodes out;
  out.reserve(ring.nodes().size());
  for (const std::string& node : ring.nodes()) {
    out.emplace_back();
    resp::append_bulk(out.back(), node);
  }
  return out;
}

// What a connection reads after its service vanished from the cluster.
const ring::Ring& empty_ring() {
  static const std::shared_ptr<const ring::Ring> ring = ring::Ring::build({});
  return *ring;
}

void field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).push_back(':');
  out.append(value).append("\r\n");
}

void field(std::string& out, std::string_view name, std::uint64_t value) {
  field(out, name, std::to_string(value));
}

}  // namespace

const RingSet& RingCache::refresh() {
  const std::uint64_t g = publisher_.generation();
  if (g != generation_ || set_ == nullptr) {
    set_ = publisher_.rings();
    generation_ = g;
    encoded_.clear();
    encoded_.push_back(encode_nodes(*set_->all));
    for (const auto& ring : set_->rings) encoded_.push_back(encode_nodes(*ring));
  }
  return *set_;
}

void RingBackend::begin_batch() {
  set_ = &cache_.refresh();
  if (resolved_ == cache_.generation() && ring_ != nullptr) return;
  resolved_ = cache_.generation();
  const std::size_t db = service_.empty() ? 0 : set_->database_of(service_);
  if (db == 0 && !service_.empty()) {
    ring_ = &empty_ring();
    encoded_ = nullptr;
  } else {
    use_db(db);
  }
}

std::string_view RingBackend::owner(std::string_view key) {
  const std::string* node = ring_->owner(key);
  return node != nullptr ? std::string_view(*node) : std::string_view();
}

std::string_view RingBackend::owner_bulk(std::string_view key) {
  const std::string* node = ring_->owner(key);
  if (node == nullptr) return {};
  return (*encoded_)[static_cast<std::size_t>(node - ring_->nodes().data())];
}

void RingBackend::owners(std::string_view key, std::size_t n, std::vector<std::string_view>& out) {
  for (const std::string* node : ring_->owners(key, n)) out.emplace_back(*node);
}

std::span<const std::string> RingBackend::nodes() { return ring_->nodes(); }

std::string_view RingBackend::checksum() { return ring_->checksum(); }
std::string_view RingBackend::dump() { return ring_->dump(); }

bool RingBackend::select(std::size_t db) {
  if (db >= databases()) return false;
  if (db == 0 || set_->services.empty()) {
    service_.clear();
    use_db(0);
  } else {
    service_ = set_->services[db - 1];
    use_db(db);
  }
  return true;
}

bool RingBackend::info_section(std::string_view name, std::string& out) {
  if (name == "server") return server_section(out), true;
  if (name == "clients") return clients_section(out), true;
  if (name == "ring") return ring_section(out), true;
  if (name == "members") return members_section(out), true;
  return false;
}

void RingBackend::server_section(std::string& out) const {
  const auto uptime = static_cast<std::uint64_t>(coarse_now_s() - shared_.started_s);
  out.append("# Server\r\n");
  field(out, "redis_version", resp::kRedisVersion);
  field(out, "redis_mode", "standalone");
  field(out, "server_name", "ringd");
  field(out, "arch_bits", sizeof(void*) * 8);
  field(out, "multiplexing_api", "epoll");
  field(out, "process_id", static_cast<std::uint64_t>(getpid()));
  field(out, "tcp_port", shared_.tcp_port);
  field(out, "unix_socket", shared_.options.unix_path);
  field(out, "uptime_in_seconds", uptime);
  field(out, "uptime_in_days", uptime / 86400);
  field(out, "io_threads", static_cast<std::uint64_t>(shared_.options.threads));
}

void RingBackend::clients_section(std::string& out) const {
  out.append("# Clients\r\n");
  field(out, "connected_clients",
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, shared_.stats.connected_clients.load())));
  field(out, "maxclients", shared_.options.max_clients);
  field(out, "timeout", static_cast<std::uint64_t>(shared_.options.timeout_s));
  field(out, "client_output_buffer_limit", shared_.options.max_output_buffer);
  field(out, "blocked_clients", std::uint64_t{0});
}

// The ring of every endpoint (db 0), then one line per service (db 1..k).
void RingBackend::ring_section(std::string& out) const {
  const ring::Ring& all = *set_->all;
  out.append("# Ring\r\n");
  field(out, "ring_nodes", all.nodes().size());
  field(out, "ring_checksum", all.checksum());
  field(out, "ring_points_per_node", all.options().points_per_node);
  field(out, "ring_points", all.point_count());
  for (std::size_t i = 0; i < all.nodes().size(); ++i) {
    field(out, "node" + std::to_string(i), all.nodes()[i]);
  }
  field(out, "ring_services", set_->services.size());
  for (std::size_t i = 0; i < set_->services.size(); ++i) {
    const ring::Ring& ring = *set_->rings[i];
    field(out, "db" + std::to_string(i + 1),
          "service=" + set_->services[i] + ",nodes=" + std::to_string(ring.nodes().size()) +
              ",checksum=" + ring.checksum());
  }
}

void RingBackend::members_section(std::string& out) const {
  const auto members = shared_.members.load(std::memory_order_acquire);
  std::array<std::uint64_t, 4> by_state{};
  for (const auto& m : *members) ++by_state[static_cast<std::size_t>(m.state)];
  out.append("# Members\r\n");
  field(out, "members", members->size());
  field(out, "members_alive", by_state[0]);
  field(out, "members_suspect", by_state[1]);
  field(out, "members_dead", by_state[2]);
  field(out, "members_left", by_state[3]);
  for (std::size_t i = 0; i < members->size(); ++i) {
    const auto& m = (*members)[i];
    std::string value = "name=" + m.name + ",address=" + m.address + ",state=" +
                        std::string(gossip::to_string(m.state)) +
                        ",incarnation=" + std::to_string(m.incarnation) + ",service=" + m.service;
    field(out, "member" + std::to_string(i), value);
  }
}

void RingBackend::use_db(std::size_t db) {
  ring_ = set_->db(db);
  encoded_ = &cache_.encoded(db);
}

}  // namespace ringd::agent
