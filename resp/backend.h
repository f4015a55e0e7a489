// resp/backend.h — what commands may ask of the agent (public contract).
//
// One Backend per session: the session calls begin_batch() before the
// commands of each read, and the implementation pins its current ring
// snapshot there, so one pipeline batch sees one ring and every string_view
// returned below stays valid until the next begin_batch() or until the
// Backend is destroyed. Nothing here may block or take a lock: GET is the hot
// path and must not allocate either. Implemented in agent/ (RingBackend over
// the RingPublisher); tests use fakes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resp/writer.h"

namespace ringd::resp {

class Backend {
 public:
  virtual ~Backend() = default;

  // Pins the ring (and whatever else the calls below read) for one batch.
  virtual void begin_batch() = 0;

  // The endpoint ("ip:port") owning key; empty when the ring is empty.
  virtual std::string_view owner(std::string_view key) = 0;
  // The same endpoint as GET's whole reply, a bulk string
  // ("$14\r\n10.0.0.1:8080\r\n"); empty when the ring is empty. The agent
  // keeps these encoded per ring, so GET appends one run of bytes; this
  // default encodes owner() into a buffer of the Backend's.
  virtual std::string_view owner_bulk(std::string_view key) {
    const std::string_view node = owner(key);
    if (node.empty()) return {};
    bulk_.clear();
    append_bulk(bulk_, node);
    return bulk_;
  }
  // Up to n distinct endpoints for key, clockwise from it (owner first),
  // appended to `out` (which the caller reuses).
  virtual void owners(std::string_view key, std::size_t n, std::vector<std::string_view>& out) = 0;
  // The ring's endpoints, sorted.
  virtual std::span<const std::string> nodes() = 0;
  // The ring checksum (16 lowercase hex digits).
  virtual std::string_view checksum() = 0;
  // The ring as a binary image (ring/dump.h); empty when the backend has none.
  virtual std::string_view dump() { return {}; }

  // Databases (SELECT). Database 0 is the ring of every endpoint. When the
  // cluster has named services, database i (1..k) is the ring of the i-th
  // service in services(); without services, 1..15 are accepted and act as 0.
  // The lookups above read the selected database's ring.
  //
  // Service names, sorted: database i + 1 is services()[i]. Valid like the
  // views above.
  virtual std::span<const std::string> services() { return {}; }
  // How many databases SELECT accepts: 16 without services, else 1 + k.
  virtual std::size_t databases() { return services().empty() ? 16 : services().size() + 1; }
  // Makes `db` (< databases()) the ring the lookups read, from now on.
  // Returns false, changing nothing, when db is out of range.
  virtual bool select(std::size_t db) { return db < databases(); }

  // Appends INFO section `name` (lower case: "server", "clients", "ring",
  // "members"), from its "# Title\r\n" line to its last "field:value\r\n".
  // Returns false, appending nothing, for a section it does not have.
  virtual bool info_section(std::string_view name, std::string& out) = 0;

  // Seconds on a monotonic clock (CLIENT INFO age/idle); 0 when unknown.
  virtual std::int64_t now_seconds() { return 0; }

 private:
  std::string bulk_;  // owner_bulk()'s default reply
};

}  // namespace ringd::resp
