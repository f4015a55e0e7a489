// tests/sim/support/sim_cluster_faults.cc — what a scenario does to a
// Cluster: members crash, restart, move, leave and pause; links are cut,
// partitioned, made lossy, or fed raw bytes. See sim_cluster.h.
#include <algorithm>

#include "support/sim_cluster.h"

namespace ringd::sim {

// --- members ---

void Cluster::stop(std::size_t i) {
  SimNode& n = nodes_[i];
  n.running = false;
  n.paused = false;
  n.inbox.clear();
  n.inbox_datagrams = 0;
  update_deadline(i);
  mark_fault(i);
}

void Cluster::crash(std::size_t i) { stop(i); }

void Cluster::restart(std::size_t i, std::vector<std::string> seeds,
                      std::function<void(gossip::Config&)> tweak) {
  stop(i);
  checker_.on_restart(i);
  make_node(i, tweak);
  start(i, std::move(seeds));
}

void Cluster::restart_moved(std::size_t i, std::vector<std::string> seeds,
                            std::function<void(gossip::Config&)> tweak) {
  SimNode& n = nodes_[i];
  by_addr_.erase(n.addr);
  n.moves++;
  n.addr = address_of(i, n.moves);
  by_addr_[n.addr] = i;
  restart(i, std::move(seeds), std::move(tweak));
}

void Cluster::leave(std::size_t i) {
  nodes_[i].node->leave(loop_.now());
  drain(i);
}

void Cluster::act(std::size_t i, const std::function<void(gossip::Node&, Time)>& f) {
  f(*nodes_[i].node, loop_.now());
  drain(i);
}

void Cluster::pause(std::size_t i) {
  SimNode& n = nodes_[i];
  if (!n.running || n.paused) return;
  n.paused = true;
  n.last_pause = loop_.now();
  update_deadline(i);
}

void Cluster::resume(std::size_t i) {
  SimNode& n = nodes_[i];
  if (!n.running || !n.paused) return;
  n.paused = false;
  n.last_pause = loop_.now();
  // What the socket buffers held, in arrival order; each item drains.
  std::deque<std::function<void()>> inbox;
  inbox.swap(n.inbox);
  n.inbox_datagrams = 0;
  for (auto& fn : inbox) {
    if (!nodes_[i].running || nodes_[i].paused) break;
    fn();
  }
  // The overdue timers run next, through the normal loop.
  update_deadline(i);
}

void Cluster::mark_fault(std::size_t i) { nodes_.at(i).last_fault = loop_.now(); }

bool Cluster::reaches_majority(std::size_t i) const {
  std::size_t running_count = 0;
  std::size_t reach = 0;
  for (std::size_t j = 0; j < nodes_.size(); ++j) {
    if (!nodes_[j].running) continue;
    ++running_count;
    if (j == i || (!nodes_[j].paused && net_.connected_both(i, j))) ++reach;
  }
  return 2 * reach > running_count;
}

// --- network ---

void Cluster::block(std::size_t from, std::size_t to) {
  net_.cut(from, to);
  mark_fault(from);
  mark_fault(to);
}

void Cluster::unblock(std::size_t from, std::size_t to) {
  net_.uncut(from, to);
  mark_fault(from);
  mark_fault(to);
}

void Cluster::isolate(std::size_t i) {
  for (std::size_t j = 0; j < nodes_.size(); ++j) {
    if (j == i) continue;
    net_.cut(i, j);
    net_.cut(j, i);
  }
  mark_fault(i);
}

void Cluster::heal(std::size_t i) {
  for (std::size_t j = 0; j < nodes_.size(); ++j) {
    net_.uncut(i, j);
    net_.uncut(j, i);
  }
  mark_fault(i);
}

void Cluster::partition(const std::vector<std::vector<std::size_t>>& groups) {
  net_.partition(groups);
  for (std::size_t i = 0; i < nodes_.size(); ++i) mark_fault(i);
}

void Cluster::heal_partitions() {
  net_.heal_partitions();
  for (std::size_t i = 0; i < nodes_.size(); ++i) mark_fault(i);
}

void Cluster::heal_all() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    for (std::size_t j = 0; j < nodes_.size(); ++j) {
      net_.uncut(i, j);
      net_.clear_link(i, j);
    }
    mark_fault(i);
  }
  net_.heal_partitions();
  net_.set_extra_loss(0.0);
}

void Cluster::set_link_drop_rate(std::size_t from, std::size_t to, double p) {
  LinkParams l = net_.link(from, to);
  l.loss = p;
  net_.set_link(from, to, l);
}

void Cluster::inject(const std::string& from_addr, std::size_t to, const std::string& bytes) {
  if (!running(to) || paused(to)) return;
  nodes_[to].node->handle_packet(loop_.now(), from_addr, bytes);
  drain(to);
}

}  // namespace ringd::sim
