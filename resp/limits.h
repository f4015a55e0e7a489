// resp/limits.h — per-connection bounds on untrusted RESP input.
// Part of the resp/session.h contract (session.h includes this file).
#pragma once

#include <cstddef>

namespace ringd::resp {

struct Limits {
  std::size_t max_multibulk_len = 1024 * 1024;      // elements per command
  std::size_t max_bulk_len = 512 * 1024;            // bytes per argument
  std::size_t max_inline_len = 64 * 1024;           // bytes per inline command line
  std::size_t max_query_buffer = 1024 * 1024;       // bytes buffered per client
  // Replies appended by one feed()/resume() before the session pauses, so a
  // read full of INFO or COMMAND cannot build an unbounded reply batch.
  std::size_t max_output_batch = 64 * 1024;
};

}  // namespace ringd::resp
