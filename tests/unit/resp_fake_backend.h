// tests/unit/resp_fake_backend.h — a resp::Backend over a fixed map, for the
// session and command tests.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resp/backend.h"

namespace ringd::resp {

class FakeBackend : public Backend {
 public:
  void begin_batch() override { ++batches; }
  std::string_view owner(std::string_view key) override {
    keys_seen.emplace_back(key);
    if (selected > 0) return service_endpoints[selected - 1];
    if (endpoints.empty()) return {};
    auto it = endpoints.find(std::string(key));
    return it != endpoints.end() ? std::string_view(it->second) : std::string_view(default_endpoint);
  }
  void owners(std::string_view key, std::size_t n, std::vector<std::string_view>& out) override {
    keys_seen.emplace_back(key);
    if (selected > 0) {
      out.emplace_back(service_endpoints[selected - 1]);
      return;
    }
    for (std::size_t i = 0; i < n && i < nodes_.size(); ++i) out.emplace_back(nodes_[i]);
  }
  std::span<const std::string> nodes() override {
    if (selected > 0) return std::span<const std::string>(&service_endpoints[selected - 1], 1);
    return endpoints.empty() ? std::span<const std::string>() : nodes_;
  }
  std::string_view checksum() override {
    if (selected > 0) return service_checksums[selected - 1];
    return "0123456789abcdef";
  }
  // Services: database i + 1 is a one-endpoint ring, service_endpoints[i].
  std::span<const std::string> services() override { return service_names; }
  bool select(std::size_t db) override {
    if (!Backend::select(db)) return false;  // the default range rule
    selected = service_names.empty() ? 0 : db;
    return true;
  }
  bool info_section(std::string_view name, std::string& out) override {
    if (name != "ring") return false;
    out.append("# Ring\r\nring_nodes:3\r\n");
    return true;
  }
  std::map<std::string, std::string> endpoints;
  std::string default_endpoint = "10.0.0.1:8000";
  std::vector<std::string> nodes_ = {"10.0.0.1:8000", "10.0.0.7:8000", "127.0.0.1:9001"};
  std::vector<std::string> service_names;       // sorted
  std::vector<std::string> service_endpoints;   // parallel to service_names
  std::vector<std::string> service_checksums;   // parallel to service_names
  std::size_t selected = 0;                     // set by select(); 0 without services
  std::vector<std::string> keys_seen;
  int batches = 0;
};

}  // namespace ringd::resp
