// agent/asio.h — the one place agent/ includes Boost.Asio.
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>; including it first makes the coroutine headers compile.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ringd::agent {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
}  // namespace ringd::agent
