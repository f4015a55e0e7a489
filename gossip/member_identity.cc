// gossip/member_identity.cc — see member_identity.h.
#include "member_identity.h"

#include <functional>
#include <utility>

namespace ringd::gossip {

namespace {

std::size_t mix(std::size_t h, std::string_view s) {
  return (h ^ std::hash<std::string_view>{}(s)) * 0x9e3779b97f4a7c15ULL + 1;
}

}  // namespace

bool IdentityPool::Equal::operator()(const Identity* a, const Identity* b) const {
  return a->name == b->name && a->address == b->address && a->service == b->service &&
         a->service_state == b->service_state && a->tags == b->tags;
}

IdentityRef IdentityPool::intern(std::string_view name, std::string_view address, std::string_view service,
                                 const Tags& tags, ServiceState service_state) {
  Identity probe;
  probe.name = name;
  probe.address = address;
  probe.service = service;
  probe.tags = tags;
  probe.service_state = service_state;
  std::size_t h = mix(mix(mix(static_cast<std::size_t>(service_state), name), address), service);
  for (const auto& [k, v] : tags) h = mix(mix(h, k), v);
  probe.hash_ = h;
  auto it = set_.find(&probe);
  if (it != set_.end()) return IdentityRef(*it);
  // New: only now on the heap.
  auto* p = new Identity(std::move(probe));
  p->pool_ = this;
  set_.insert(p);
  return IdentityRef(p);
}

void IdentityPool::drop(Identity* p) {
  set_.erase(p);
  delete p;
}

IdentityPool::~IdentityPool() {
  // Every reference should be gone by now; free what is left regardless.
  for (Identity* p : set_) delete p;
}

}  // namespace ringd::gossip
