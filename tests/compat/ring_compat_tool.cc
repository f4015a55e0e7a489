// tests/compat/ring_compat_tool.cc — answers owner lookups for the
// compatibility tests: `ring_compat_tool MODE` reads lines
//   server ENDPOINT WEIGHT
//   key KEY            (everything after "key ")
// from stdin, builds one ring from all servers, and prints the owner of each
// key, one per line, in order.
#include <iostream>
#include <string>
#include <vector>

#include "ring/ring.h"

int main(int argc, char** argv) {
  if (argc != 2 || !ringd::ring::parse_mode(argv[1])) {
    std::cerr << "usage: ring_compat_tool default|maglev|nginx|ketama < servers-and-keys\n";
    return 2;
  }
  std::vector<ringd::ring::WeightedNode> servers;
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.rfind("server ", 0) == 0) {
      const std::string rest = line.substr(7);
      const auto space = rest.rfind(' ');
      servers.push_back({rest.substr(0, space), static_cast<std::uint32_t>(std::stoul(rest.substr(space + 1)))});
    } else if (line.rfind("key ", 0) == 0) {
      keys.push_back(line.substr(4));
    }
  }
  auto ring = ringd::ring::Ring::build_weighted(servers, {.mode = *ringd::ring::parse_mode(argv[1])});
  for (const std::string& key : keys) {
    const std::string* owner = ring->owner(key);
    std::cout << (owner ? *owner : std::string("-")) << '\n';
  }
  return 0;
}
