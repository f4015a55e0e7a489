// ring/dump.cc — Ring::dump(): the image ring/dump.h describes.
#include "ring/dump.h"

#include "ring/ring.h"

namespace ringd::ring {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void pad8(std::string& out) {
  while (out.size() % 8 != 0) out.push_back('\0');
}

}  // namespace

const std::string& Ring::dump() const {
  std::call_once(dump_once_, [this] {
    const bool maglev = options_.mode == Mode::kMaglev;
    const bool multiprobe = options_.mode == Mode::kMultiProbe;
    const std::size_t entries = maglev ? (nodes_.empty() ? 0 : table_.size()) : point_count();
    std::string names;
    for (const std::string& n : nodes_) {
      names.push_back(static_cast<char>(n.size() & 0xff));
      names.push_back(static_cast<char>((n.size() >> 8) & 0xff));
      names += n;
    }
    pad8(names);

    std::string out;
    out.reserve(kDumpHeaderSize + names.size() + entries * 12 + 8);
    out += kDumpMagic;
    out.push_back(static_cast<char>(options_.mode));
    out.append(7, '\0');
    out += checksum_;
    put_u32(out, static_cast<std::uint32_t>(nodes_.size()));
    put_u32(out, static_cast<std::uint32_t>(entries));
    put_u32(out, static_cast<std::uint32_t>(names.size()));
    put_u32(out, options_.mode == Mode::kDefault ? options_.points_per_node : multiprobe ? options_.probes : 0);
    out += names;
    if (maglev) {
      for (std::size_t i = 0; i < entries; ++i) put_u32(out, table_[i]);
    } else if (multiprobe) {
      for (std::size_t i = 0; i < entries; ++i) put_u64(out, multiprobe_.position(i));
      for (std::size_t i = 0; i < entries; ++i) put_u32(out, multiprobe_.node(i));
    } else {
      for (std::size_t i = 0; i < entries; ++i) put_u64(out, points_.hash(i));
      for (std::size_t i = 0; i < entries; ++i) put_u32(out, points_.node(i));
    }
    dump_ = std::move(out);
  });
  return dump_;
}

}  // namespace ringd::ring
