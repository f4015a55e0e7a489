// gossip/name_index.h — finds a member record by name in O(1).
//
// The member table keeps its records in a std::set ordered by name, for
// deterministic iteration; a lookup there walks log2(n) tree nodes and
// reads a name at each (two cache misses a level). Every piggybacked
// update and every probe looks a member up, so the table also keeps this
// index: an open-addressing hash table of record pointers (linear probing,
// at most half full, deletion by backward shift, so no tombstones). It
// holds 8 bytes per slot and reads one record's name on a hit.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

namespace ringd::gossip {

template <class Record>  // Record has name() returning something string-like
class NameIndex {
 public:
  const Record* find(std::string_view name) const {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = home(name);; i = next(i)) {
      const Record* r = slots_[i];
      if (r == nullptr) return nullptr;
      if (std::string_view(r->name()) == name) return r;
    }
  }

  // `r` must not be indexed yet (no other record of its name).
  void insert(const Record* r) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    place(r);
    ++count_;
  }

  void erase(const Record* r) {
    if (slots_.empty()) return;
    std::size_t i = home(r->name());
    while (slots_[i] != r) {
      if (slots_[i] == nullptr) return;
      i = next(i);
    }
    // Backward shift: move later entries of the run into the hole when
    // their home allows it.
    for (std::size_t j = next(i);; j = next(j)) {
      const Record* s = slots_[j];
      if (s == nullptr) break;
      const std::size_t h = home(s->name());
      // s may move to i if its home is not in (i, j] (cyclically).
      const bool stays = (i < j) ? (i < h && h <= j) : (i < h || h <= j);
      if (!stays) {
        slots_[i] = s;
        i = j;
      }
    }
    slots_[i] = nullptr;
    --count_;
  }

  std::size_t size() const { return count_; }

 private:
  std::size_t home(std::string_view name) const { return std::hash<std::string_view>{}(name) & (slots_.size() - 1); }
  std::size_t next(std::size_t i) const { return (i + 1) & (slots_.size() - 1); }
  void place(const Record* r) {
    std::size_t i = home(r->name());
    while (slots_[i] != nullptr) i = next(i);
    slots_[i] = r;
  }
  void grow() {
    std::vector<const Record*> old(slots_.empty() ? 16 : slots_.size() * 2, nullptr);
    old.swap(slots_);
    for (const Record* r : old) {
      if (r != nullptr) place(r);
    }
  }

  std::vector<const Record*> slots_;
  std::size_t count_ = 0;
};

}  // namespace ringd::gossip
