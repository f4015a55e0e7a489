// resp/version.h — the Redis version ringd speaks for (HELLO, INFO).
// Clients gate features on it; ringd answers like Redis 7.0 on the wire.
#pragma once

#include <string_view>

namespace ringd::resp {

inline constexpr std::string_view kRedisVersion = "7.0.0";

}  // namespace ringd::resp
