// agent/ring_backend.h — resp::Backend over the published rings, for the
// RESP server's connections (internal to the RESP server).
//
// RingCache: the ring set a loop's connections read, reloaded from the
// publisher only when its generation moved, so a batch costs one atomic
// load, not an atomic shared_ptr copy. One per loop thread; a connection's
// views stay valid for its batch because batches of one loop never overlap.
// It also keeps GET's reply for every node of every ring, encoded once per
// generation, so a GET appends one run of bytes.
//
// RingBackend: one per connection. begin_batch() pins the loop's current
// set, so a pipeline batch sees one ring and the views handed out stay valid
// for the batch. SELECT remembers the service by name: if the numbering
// changes later (a service appears or is forgotten), the connection keeps
// reading the service it chose, and reads an empty ring once that service is
// gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/resp_shared.h"
#include "agent/ring_publisher.h"
#include "resp/backend.h"

namespace ringd::agent {

// GET's reply for each node of a ring: a bulk string
// ("$14\r\n10.0.0.1:8080\r\n"), parallel to Ring::nodes().
using EncodedNodes = std::vector<std::string>;

class RingCache {
 public:
  explicit RingCache(const RingPublisher& publisher) : publisher_(publisher) {}

  // The current set; generation() identifies it.
  const RingSet& refresh();
  std::uint64_t generation() const { return generation_; }
  // GET replies of database db's ring (0: all endpoints, i: service i).
  const EncodedNodes& encoded(std::size_t db) const { return encoded_[db]; }

 private:
  const RingPublisher& publisher_;
  std::shared_ptr<const RingSet> set_;
  std::uint64_t generation_ = 0;
  std::vector<EncodedNodes> encoded_;  // by database
};

class RingBackend final : public resp::Backend {
 public:
  RingBackend(const RespServer::Shared& shared, RingCache& cache) : shared_(shared), cache_(cache) {}

  void begin_batch() override;
  std::string_view owner(std::string_view key) override;
  std::string_view owner_bulk(std::string_view key) override;
  void owners(std::string_view key, std::size_t n, std::vector<std::string_view>& out) override;
  std::span<const std::string> nodes() override;
  std::string_view checksum() override;
  std::string_view dump() override;
  std::int64_t now_seconds() override { return coarse_now_s(); }
  std::span<const std::string> services() override { return set_->services; }
  bool select(std::size_t db) override;
  bool info_section(std::string_view name, std::string& out) override;

 private:
  void server_section(std::string& out) const;
  void clients_section(std::string& out) const;
  void ring_section(std::string& out) const;
  void members_section(std::string& out) const;
  // Reads database db of the pinned set (0: all endpoints, i: service i).
  void use_db(std::size_t db);

  const RespServer::Shared& shared_;
  RingCache& cache_;
  const RingSet* set_ = nullptr;           // pinned by begin_batch()
  const ring::Ring* ring_ = nullptr;       // the selected database's ring in set_
  const EncodedNodes* encoded_ = nullptr;  // its GET replies (null: the empty ring)
  std::uint64_t resolved_ = 0;             // cache generation ring_ was looked up in
  std::string service_;                    // selected service; "" = every endpoint
};

}  // namespace ringd::agent
