// resp/client.h — the per-connection state commands read and change.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringd::resp {

struct ClientState {
  std::uint64_t id = 0;       // CLIENT ID: unique per server, from 1
  int proto = 2;              // 2 or 3, set by HELLO
  bool authenticated = true;  // false until AUTH when a password is set
  int db = 0;                 // SELECT: the database (ring) this connection reads
  std::string name;           // CLIENT SETNAME
  // Filled by the server for CLIENT INFO; empty/-1 in tests.
  std::string addr;           // peer "ip:port" or "path:0" for Unix sockets
  std::string laddr;          // local address
  int fd = -1;
  std::int64_t created_s = 0; // Backend::now_seconds() at connect
  std::int64_t last_s = 0;    // ... at the last command
  std::string_view last_command;  // full name of the last command ("client|info"): static text
};

}  // namespace ringd::resp
