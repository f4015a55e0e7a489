// gossip/member_identity.h — what a member says about itself, stored once.
//
// A member's name, address, service, tags and service state change rarely
// and are the same in every member's view. The member table keeps them as
// one shared, immutable Identity per distinct value: a record holds an
// 8-byte reference instead of ~150 bytes of strings and maps, and simulated
// clusters whose nodes share one pool hold each value once for the whole
// cluster (N members' views of N members: N^2 records, N identities).
//
// References are counted without atomics: a pool, and every reference into
// it, belongs to one thread (one Node, or one simulated cluster).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "node.h"

namespace ringd::gossip {

class IdentityPool;

struct Identity {
  std::string name;
  std::string address;
  std::string service;
  Tags tags;
  ServiceState service_state = ServiceState::kPassing;

 private:
  friend class IdentityPool;
  friend class IdentityRef;
  IdentityPool* pool_ = nullptr;
  std::size_t hash_ = 0;
  std::size_t refs_ = 0;
};

// A counted reference to an interned Identity (never null once assigned).
class IdentityRef {
 public:
  IdentityRef() = default;
  IdentityRef(const IdentityRef& o) : p_(o.p_) { retain(); }
  IdentityRef(IdentityRef&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  IdentityRef& operator=(IdentityRef o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~IdentityRef() { release(); }

  const Identity& operator*() const { return *p_; }
  const Identity* operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  friend class IdentityPool;
  explicit IdentityRef(Identity* p) : p_(p) { retain(); }
  void retain() const {
    if (p_ != nullptr) ++p_->refs_;
  }
  void release();
  Identity* p_ = nullptr;
};

class IdentityPool {
 public:
  IdentityPool() = default;
  IdentityPool(const IdentityPool&) = delete;
  IdentityPool& operator=(const IdentityPool&) = delete;
  ~IdentityPool();

  // The one Identity with these values, created on first use.
  IdentityRef intern(std::string_view name, std::string_view address, std::string_view service,
                     const Tags& tags, ServiceState service_state);
  // Distinct identities held.
  std::size_t size() const { return set_.size(); }

 private:
  friend class IdentityRef;
  void drop(Identity* p);
  struct Hash {
    std::size_t operator()(const Identity* p) const { return p->hash_; }
  };
  struct Equal {
    bool operator()(const Identity* a, const Identity* b) const;
  };
  std::unordered_set<Identity*, Hash, Equal> set_;
};

inline void IdentityRef::release() {
  if (p_ != nullptr && --p_->refs_ == 0) p_->pool_->drop(p_);
  p_ = nullptr;
}

}  // namespace ringd::gossip
