#include "ring/mode.h"

#include <array>
#include <utility>

namespace ringd::ring {

namespace {

constexpr std::array<std::pair<Mode, std::string_view>, 5> kNames = {{
    {Mode::kDefault, "default"},
    {Mode::kMaglev, "maglev"},
    {Mode::kNginx, "nginx"},
    {Mode::kKetama, "ketama"},
    {Mode::kMultiProbe, "multiprobe"},
}};

}  // namespace

std::string_view to_string(Mode mode) {
  for (const auto& [m, name] : kNames) {
    if (m == mode) return name;
  }
  return "unknown";
}

std::optional<Mode> parse_mode(std::string_view name) {
  for (const auto& [m, n] : kNames) {
    if (n == name) return m;
  }
  return std::nullopt;
}

}  // namespace ringd::ring
