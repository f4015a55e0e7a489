// resp/writer.h — RESP2 reply encoding, appended to a caller-owned std::string.
//
// Every function appends exactly one RESP2 value (or, for array_header, the
// header of one) and never clears `out`, so a session can batch the replies
// of a whole pipeline into one buffer and write it with one syscall. Nothing
// here allocates except through `out` growing; reuse `out` to avoid that.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringd::resp {

// "+<s>\r\n". `s` must not contain CR or LF (callers pass constants).
void append_simple(std::string& out, std::string_view s);

// "-<msg>\r\n". `msg` is the text after '-', e.g. "ERR unknown command ...".
// Like Redis (addReplyErrorFormat/rejectCommandFormat), any CR or LF inside
// `msg` is replaced by a space, so user bytes echoed in an error can never
// break the framing.
void append_error(std::string& out, std::string_view msg);

// ":<n>\r\n"
void append_integer(std::string& out, std::int64_t n);

// "$<len>\r\n<data>\r\n" — binary safe.
void append_bulk(std::string& out, std::string_view data);

// "$-1\r\n" — the RESP2 nil bulk string.
void append_nil(std::string& out);

// "*<n>\r\n" — the caller then appends n values.
void append_array_header(std::string& out, std::size_t n);

// Values whose encoding depends on the protocol the client chose with HELLO
// (2 or 3); RESP2 gets what Redis sends a RESP2 client for the same reply.

// Null: "$-1\r\n" (RESP2 nil bulk) or "_\r\n".
void append_null(std::string& out, int proto);
// Null array: "*-1\r\n" or "_\r\n".
void append_null_array(std::string& out, int proto);
// Map of n pairs: "%<n>\r\n", or "*<2n>\r\n" (a flat key/value array).
void append_map_header(std::string& out, std::size_t n, int proto);
// Set of n members: "~<n>\r\n" or "*<n>\r\n".
void append_set_header(std::string& out, std::size_t n, int proto);
// Verbatim text: "=<len+4>\r\ntxt:<text>\r\n", or a bulk string.
void append_verbatim(std::string& out, std::string_view text, int proto);

}  // namespace ringd::resp
