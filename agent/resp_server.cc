#include "agent/resp_server.h"

#include <time.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <thread>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "resp/version.h"

namespace ringd::agent {
namespace {

using unix_socket = asio::local::stream_protocol::socket;
using boost::system::error_code;

// Seconds on CLOCK_MONOTONIC_COARSE: a vDSO read, cheap enough per request.
std::int64_t coarse_now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec);
}

template <typename Endpoint>
std::string endpoint_text(const Endpoint& ep) {
  if constexpr (std::is_same_v<Endpoint, tcp::endpoint>) {
    const auto addr = ep.address();
    return (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" + std::to_string(ep.port());
  } else {
    return ep.path() + ":0";  // Redis prints Unix peers as "path:0"
  }
}

void field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).push_back(':');
  out.append(value).append("\r\n");
}

void field(std::string& out, std::string_view name, std::uint64_t value) {
  field(out, name, std::to_string(value));
}

}  // namespace

// Everything connections read, owned jointly by the server and every live
// connection (a connection can outlive the server while its io_context is
// being destroyed).
struct RespServer::Shared {
  Shared(const RingPublisher& p, RespServerOptions o) : publisher(p), options(std::move(o)) {
    session_options.limits = options.limits;
    if (options.password) session_options.password = &*options.password;
  }
  const RingPublisher& publisher;
  RespServerOptions options;
  resp::SessionOptions session_options;
  resp::Stats stats;
  std::atomic<std::shared_ptr<const std::vector<gossip::Member>>> members{
      std::make_shared<const std::vector<gossip::Member>>()};
  std::int64_t started_s = coarse_now_s();
  std::uint16_t tcp_port = 0;
};

namespace {

using Shared = RespServer::Shared;

// resp::Backend over the published ring; one per connection. begin_batch()
// pins the current snapshot, so a pipeline batch sees one ring and the
// views handed out stay valid for the batch.
class RingBackend final : public resp::Backend {
 public:
  explicit RingBackend(const Shared& shared) : shared_(shared) {}

  void begin_batch() override { ring_ = shared_.publisher.current(); }

  std::string_view owner(std::string_view key) override {
    const std::string* node = ring_->owner(key);
    return node != nullptr ? std::string_view(*node) : std::string_view();
  }

  void owners(std::string_view key, std::size_t n, std::vector<std::string_view>& out) override {
    for (const std::string* node : ring_->owners(key, n)) out.emplace_back(*node);
  }

  std::span<const std::string> nodes() override { return ring_->nodes(); }
  std::string_view checksum() override { return ring_->checksum(); }
  std::int64_t now_seconds() override { return coarse_now_s(); }

  bool info_section(std::string_view name, std::string& out) override {
    if (name == "server") return server_section(out), true;
    if (name == "clients") return clients_section(out), true;
    if (name == "ring") return ring_section(out), true;
    if (name == "members") return members_section(out), true;
    return false;
  }

 private:
  void server_section(std::string& out) const {
    const auto uptime = static_cast<std::uint64_t>(coarse_now_s() - shared_.started_s);
    out.append("# Server\r\n");
    field(out, "redis_version", resp::kRedisVersion);
    field(out, "redis_mode", "standalone");
    field(out, "server_name", "ringd");
    field(out, "arch_bits", sizeof(void*) * 8);
    field(out, "multiplexing_api", "epoll");
    field(out, "process_id", static_cast<std::uint64_t>(getpid()));
    field(out, "tcp_port", shared_.tcp_port);
    field(out, "unix_socket", shared_.options.unix_path);
    field(out, "uptime_in_seconds", uptime);
    field(out, "uptime_in_days", uptime / 86400);
    field(out, "io_threads", static_cast<std::uint64_t>(shared_.options.threads));
  }

  void clients_section(std::string& out) const {
    out.append("# Clients\r\n");
    field(out, "connected_clients",
          static_cast<std::uint64_t>(std::max<std::int64_t>(0, shared_.stats.connected_clients.load())));
    field(out, "maxclients", shared_.options.max_clients);
    field(out, "timeout", static_cast<std::uint64_t>(shared_.options.timeout_s));
    field(out, "client_output_buffer_limit", shared_.options.max_output_buffer);
    field(out, "blocked_clients", std::uint64_t{0});
  }

  void ring_section(std::string& out) const {
    out.append("# Ring\r\n");
    field(out, "ring_nodes", ring_->nodes().size());
    field(out, "ring_checksum", ring_->checksum());
    field(out, "ring_points_per_node", ring_->options().points_per_node);
    field(out, "ring_points", ring_->point_count());
    for (std::size_t i = 0; i < ring_->nodes().size(); ++i) {
      field(out, "node" + std::to_string(i), ring_->nodes()[i]);
    }
  }

  void members_section(std::string& out) const {
    const auto members = shared_.members.load(std::memory_order_acquire);
    std::array<std::uint64_t, 4> by_state{};
    for (const auto& m : *members) ++by_state[static_cast<std::size_t>(m.state)];
    out.append("# Members\r\n");
    field(out, "members", members->size());
    field(out, "members_alive", by_state[0]);
    field(out, "members_suspect", by_state[1]);
    field(out, "members_dead", by_state[2]);
    field(out, "members_left", by_state[3]);
    for (std::size_t i = 0; i < members->size(); ++i) {
      const auto& m = (*members)[i];
      std::string value = "name=" + m.name + ",address=" + m.address + ",state=" +
                          std::string(gossip::to_string(m.state)) +
                          ",incarnation=" + std::to_string(m.incarnation) + ",service=" + m.service;
      field(out, "member" + std::to_string(i), value);
    }
  }

  const Shared& shared_;
  std::shared_ptr<const ring::Ring> ring_;
};

// The connections of one worker, for the idle sweep and for stop(). Only
// touched on that worker's thread.
struct ConnBase;
struct Registry {
  std::unordered_set<ConnBase*> conns;
};

struct ConnBase {
  ConnBase(std::shared_ptr<Shared> s, std::shared_ptr<Registry> r) : shared(std::move(s)), registry(std::move(r)) {
    registry->conns.insert(this);
  }
  virtual ~ConnBase() {
    registry->conns.erase(this);
    shared->stats.connected_clients.fetch_sub(1, std::memory_order_relaxed);
  }
  virtual void close() = 0;

  std::shared_ptr<Shared> shared;
  std::shared_ptr<Registry> registry;
  std::int64_t last_active_s = coarse_now_s();
  std::string pending;        // replies the kernel has not taken yet
  bool writer_active = false; // flush() is running
  bool reader_done = false;   // serve() returned; flush() closes when done
};

template <typename Socket>
struct Conn final : ConnBase {
  Conn(std::shared_ptr<Shared> s, std::shared_ptr<Registry> r, Socket sock)
      : ConnBase(std::move(s), std::move(r)), socket(std::move(sock)) {}
  void close() override {
    error_code ignored;
    socket.close(ignored);
  }
  void shutdown() {
    error_code ignored;
    socket.shutdown(Socket::shutdown_both, ignored);
    socket.close(ignored);
  }
  Socket socket;
};

// Sends what the reader left in `pending`, while the reader keeps going.
template <typename Socket>
asio::awaitable<void> flush(std::shared_ptr<Conn<Socket>> c) {
  std::string chunk;
  while (!c->pending.empty()) {
    chunk.clear();
    chunk.swap(c->pending);
    error_code ec;
    co_await asio::async_write(c->socket, asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      c->close();
      break;
    }
    c->last_active_s = coarse_now_s();
  }
  c->pending.clear();
  c->writer_active = false;
  if (c->reader_done) c->shutdown();
}

// Hands one batch of replies to the kernel: one send() when it takes them
// all (the usual case), else queues them for flush(). False: drop the client.
template <typename Socket>
bool deliver(const std::shared_ptr<Conn<Socket>>& c, const std::string& out) {
  if (c->writer_active) {
    c->pending.append(out);
  } else {
    error_code ec;
    std::size_t sent = c->socket.write_some(asio::buffer(out), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      sent = 0;
    } else if (ec) {
      return false;
    }
    if (sent == out.size()) return true;
    c->pending.assign(out, sent);
    c->writer_active = true;
    asio::co_spawn(c->socket.get_executor(), flush(c), asio::detached);
  }
  if (c->pending.size() > c->shared->options.max_output_buffer) {
    c->shared->stats.output_buffer_drops.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

template <typename Socket>
void describe_client(Socket& socket, resp::ClientState& client) {
  error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (!ec) client.addr = endpoint_text(peer);
  auto local = socket.local_endpoint(ec);
  if (!ec) client.laddr = endpoint_text(local);
  client.fd = static_cast<int>(socket.native_handle());
}

template <typename Socket>
asio::awaitable<void> serve(std::shared_ptr<Conn<Socket>> c) {
  RingBackend backend(*c->shared);
  resp::Session session(backend, c->shared->stats, c->shared->session_options);
  describe_client(c->socket, session.client());
  error_code ec;
  c->socket.non_blocking(true, ec);
  std::array<char, 16 * 1024> in;
  std::string out;
  out.reserve(4096);
  bool readable = true;  // data may be waiting already: read before waiting
  for (bool keep = true; keep;) {
    out.clear();
    if (session.paused()) {
      keep = session.resume(out);
    } else {
      if (!readable) {
        co_await c->socket.async_wait(Socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
      const std::size_t n = c->socket.read_some(asio::buffer(in), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        readable = false;
        continue;
      }
      if (ec) break;  // EOF, reset, or closed by the idle sweep / stop()
      // A full buffer may have left bytes behind; epoll (edge-triggered in
      // Asio) would not report them again, so read again before waiting.
      readable = n == in.size();
      c->last_active_s = coarse_now_s();
      session.client().last_s = c->last_active_s;
      keep = session.feed(std::string_view(in.data(), n), out);
    }
    if (!out.empty() && !deliver(c, out)) break;
  }
  c->reader_done = true;
  if (!c->writer_active) c->shutdown();
}

}  // namespace

struct RespServer::Worker {
  explicit Worker(asio::io_context* shared_io) : io(shared_io) {
    if (io == nullptr) {
      own.emplace(1);
      io = &*own;
    }
  }
  std::shared_ptr<Registry> registry = std::make_shared<Registry>();
  std::optional<asio::io_context> own;  // set when this worker has its own thread
  asio::io_context* io;
  std::thread thread;
  std::optional<asio::steady_timer> sweep;
};

namespace {

// Closes the connections of one worker that were idle for timeout_s.
asio::awaitable<void> sweep_loop(asio::steady_timer& timer, std::shared_ptr<Registry> registry,
                                 std::shared_ptr<Shared> shared) {
  const int timeout = shared->options.timeout_s;
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const std::int64_t now = coarse_now_s();
    std::vector<ConnBase*> idle;
    for (ConnBase* c : registry->conns) {
      if (now - c->last_active_s > timeout) idle.push_back(c);
    }
    for (ConnBase* c : idle) {
      shared->stats.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
      c->close();
    }
  }
}

// Redis refuses a connection over maxclients with this line, then closes.
template <typename Socket>
void refuse(Socket& socket, resp::Stats& stats) {
  static constexpr std::string_view kMsg = "-ERR max number of clients reached\r\n";
  error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(kMsg.data(), kMsg.size()), ec);
  socket.close(ec);
  stats.connections_rejected.fetch_add(1, std::memory_order_relaxed);
}

// The registry is per worker: create the connection on the worker's thread.
template <typename Socket>
void spawn_connection(asio::io_context& io, std::shared_ptr<Shared> shared, std::shared_ptr<Registry> registry,
                      Socket socket) {
  auto pending = std::make_shared<Socket>(std::move(socket));
  asio::post(io, [shared = std::move(shared), registry = std::move(registry), pending] {
    auto conn = std::make_shared<Conn<Socket>>(shared, registry, std::move(*pending));
    asio::co_spawn(conn->socket.get_executor(), serve(conn), asio::detached);
  });
}

}  // namespace

template <typename Socket>
void RespServer::start_connection(Worker& w, Socket socket) {
  spawn_connection(*w.io, shared_, w.registry, std::move(socket));
}

RespServer::RespServer(asio::io_context& io, const RingPublisher& publisher, RespServerOptions options)
    : io_(io),
      acceptor_(io),
      unix_acceptor_(io),
      shared_(std::make_shared<Shared>(publisher, std::move(options))) {}

RespServer::~RespServer() { stop(); }

const resp::Stats& RespServer::stats() const { return shared_->stats; }

std::uint64_t RespServer::connections_accepted() const {
  return shared_->stats.connections_received.load(std::memory_order_relaxed);
}

std::uint64_t RespServer::connections_open() const {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, shared_->stats.connected_clients.load()));
}

void RespServer::publish_members(std::vector<gossip::Member> members) {
  shared_->members.store(std::make_shared<const std::vector<gossip::Member>>(std::move(members)),
                         std::memory_order_release);
}

RespServer::Worker& RespServer::next_worker() {
  Worker& w = *workers_[next_];
  next_ = (next_ + 1) % workers_.size();
  return w;
}

void RespServer::start(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  shared_->tcp_port = acceptor_.local_endpoint().port();
  const std::string& path = shared_->options.unix_path;
  if (!path.empty()) {
    ::unlink(path.c_str());  // a stale socket file from a previous run
    unix_acceptor_.open();
    unix_acceptor_.bind(asio::local::stream_protocol::endpoint(path));
    unix_acceptor_.listen(asio::socket_base::max_listen_connections);
  }
  const int threads = std::max(1, shared_->options.threads);
  for (int i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(threads == 1 ? &io_ : nullptr));
  }
  for (auto& w : workers_) {
    if (shared_->options.timeout_s > 0) {
      w->sweep.emplace(*w->io);
      asio::co_spawn(*w->io, sweep_loop(*w->sweep, w->registry, shared_), asio::detached);
    }
    if (w->own) {
      w->thread = std::thread([io = w->io] {
        auto guard = asio::make_work_guard(*io);
        io->run();
      });
    }
  }
  asio::co_spawn(io_, accept_loop(), asio::detached);
  if (unix_acceptor_.is_open()) asio::co_spawn(io_, accept_unix_loop(), asio::detached);
}

void RespServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  if (unix_acceptor_.is_open()) {
    unix_acceptor_.close(ignored);
    ::unlink(shared_->options.unix_path.c_str());
  }
  for (auto& w : workers_) {
    if (!w->own) continue;
    w->io->stop();
    if (w->thread.joinable()) w->thread.join();
    w->sweep.reset();
    w->own.reset();  // destroys the connections' coroutines on this thread
  }
}

asio::awaitable<void> RespServer::accept_loop() {
  for (;;) {
    Worker& w = next_worker();
    error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(*w.io, asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor_.is_open()) co_return;
    if (ec) continue;  // e.g. EMFILE: drop this one, keep serving
    shared_->stats.connections_received.fetch_add(1, std::memory_order_relaxed);
    if (shared_->stats.connected_clients.load() >= static_cast<std::int64_t>(shared_->options.max_clients)) {
      refuse(socket, shared_->stats);
      continue;
    }
    shared_->stats.connected_clients.fetch_add(1, std::memory_order_relaxed);
    socket.set_option(tcp::no_delay(true), ec);
    start_connection(w, std::move(socket));
  }
}

asio::awaitable<void> RespServer::accept_unix_loop() {
  for (;;) {
    Worker& w = next_worker();
    error_code ec;
    unix_socket socket = co_await unix_acceptor_.async_accept(*w.io, asio::redirect_error(asio::use_awaitable, ec));
    if (!unix_acceptor_.is_open()) co_return;
    if (ec) continue;
    shared_->stats.connections_received.fetch_add(1, std::memory_order_relaxed);
    if (shared_->stats.connected_clients.load() >= static_cast<std::int64_t>(shared_->options.max_clients)) {
      refuse(socket, shared_->stats);
      continue;
    }
    shared_->stats.connected_clients.fetch_add(1, std::memory_order_relaxed);
    start_connection(w, std::move(socket));
  }
}

}  // namespace ringd::agent
