// ring/mode.h — which consistent-hash scheme a Ring implements.
#pragma once

#include <optional>
#include <string_view>

namespace ringd::ring {

enum class Mode {
  kDefault,  // ringd's ring: XXH3-64 points, bucket index (ring.cc)
  kMaglev,   // Maglev lookup table (maglev.h)
  kNginx,    // nginx `hash $key consistent` (nginx_compat.h)
  kKetama,   // libketama continuum (ketama.h)
  kMultiProbe,  // multi-probe consistent hashing (multiprobe.h)
};

// "default", "maglev", "nginx", "ketama", "multiprobe".
std::string_view to_string(Mode mode);
std::optional<Mode> parse_mode(std::string_view name);

}  // namespace ringd::ring
