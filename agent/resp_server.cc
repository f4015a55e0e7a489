#include "agent/resp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

#include "agent/busy_poll.h"
#include "agent/prometheus.h"
#include "agent/resp_shared.h"
#include "resp/command_table.h"
#include "agent/ring_backend.h"

namespace ringd::agent {
namespace {

using boost::system::error_code;

// "ip:port" ("[v6]:port") of a socket's peer or local end; "path:0" for Unix
// sockets, as Redis prints them in CLIENT INFO.
std::string socket_name(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if ((peer ? getpeername(fd, sa, &len) : getsockname(fd, sa, &len)) != 0) return {};
  char host[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  if (ss.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
    const std::size_t max = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    return std::string(un->sun_path, strnlen(un->sun_path, max)) + ":0";
  }
  return {};
}

using Shared = RespServer::Shared;

// One client connection, owned by the loop that accepted it.
// Reply buffer capacity a connection keeps between batches.
constexpr std::size_t kKeptOutCapacity = 16 * 1024;

// What a connection waits for while it has nothing pending to send
// (on_readable() says why edge-triggered, and why EPOLLRDHUP).
constexpr std::uint32_t kConnEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;

// What every event reads comes first, in one cache line.
struct Conn {
  Conn(int fd_, Shared& shared, RingCache& cache, std::int64_t now)
      : fd(fd_), last_active_s(now), backend(shared, cache), session(backend, shared.stats, shared.session_options) {}
  int fd;
  bool closing = false;       // close once `pending` is sent (QUIT, protocol error, EOF)
  bool queued = false;        // in the loop's ready list: `out` to be sent
  bool input_ended = false;   // the client shut its side: read until EOF
  std::int64_t last_active_s;
  std::string out;            // replies of this wake-up, not written yet
  std::string pending;        // replies the kernel has not taken yet
  RingBackend backend;
  resp::Session session;
};

}  // namespace

class RespServer::Loop {
 public:
  Loop(std::shared_ptr<Shared> shared, std::vector<int> listeners)
      : shared_(std::move(shared)),
        listeners_(std::move(listeners)),
        cache_(shared_->publisher),
        busy_poll_(std::chrono::microseconds(shared_->options.busy_poll_us)) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ep_ < 0 || wake_ < 0) throw boost::system::system_error(errno, boost::system::system_category(), "epoll");
    bool added = add(wake_, EPOLLIN);
    // EPOLLEXCLUSIVE: a new connection wakes one loop, not all of them.
    for (int fd : listeners_) added = added && add(fd, EPOLLIN | EPOLLEXCLUSIVE);
    if (!added) throw boost::system::system_error(errno, boost::system::system_category(), "epoll_ctl");
    ready_.reserve(256);
  }

  ~Loop() {
    stop();
    for (auto& c : conns_) {
      if (c) ::close(c->fd);
    }
    ::close(wake_);
    ::close(ep_);
  }

  void start() { thread_ = std::thread([this] { run(); }); }

  void stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true, std::memory_order_release);
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_, &one, sizeof(one));
    thread_.join();
  }

 private:
  // Every epoll_ctl goes through add() or set_events(), and every caller
  // checks: the loop's own eventfd and listeners throw from the constructor;
  // a connection the kernel refuses (ENOMEM; ENOSPC for an add past
  // fs.epoll.max_user_watches) is closed, never left unwatched, since it
  // would never be read (or, waiting for EPOLLOUT, written) again. No
  // EPOLL_CTL_DEL: closing a connection's fd removes it from the set.
  bool add(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    return epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0;
  }

  bool set_events(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    return epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev) == 0;
  }

  bool is_listener(int fd) const {
    for (int l : listeners_) {
      if (l == fd) return true;
    }
    return false;
  }

  void run() {
    std::array<epoll_event, 256> events{};
    const int timeout = shared_->options.timeout_s;
    std::int64_t next_sweep = coarse_now_s() + 1;
    while (!stopping_.load(std::memory_order_acquire)) {
      int n = 0;
      rereading_.swap(reread_);
      if (!rereading_.empty()) {
        n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 0);  // no sleep: reads are owed
      } else {
        if (busy_poll_.want_poll(reads_, commands_)) n = poll(events);
        if (n == 0) n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), timeout > 0 ? 1000 : -1);
      }
      const bool timed = busy_poll_.enabled();
      const auto woke = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      reads_ = commands_ = 0;
      now_s_ = coarse_now_s();  // one clock read per wake-up, not per request
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        const std::uint32_t ev = events[static_cast<std::size_t>(i)].events;
        if (fd == wake_) continue;
        if (is_listener(fd)) {
          accept_all(fd);
          continue;
        }
        Conn* c = conn(fd);
        if (c == nullptr) continue;
        if ((ev & EPOLLOUT) != 0 && !flush(*c)) continue;
        if ((ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) c->input_ended = true;
        if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 && !c->closing) on_readable(*c);
      }
      reread_owed();
      deliver_ready();
      if (timed) {
        work_done_ = std::chrono::steady_clock::now();
        busy_poll_.record_work(work_done_ - woke, reads_, commands_);
      }
      if (timeout > 0 && now_s_ >= next_sweep) {
        next_sweep = now_s_ + 1;
        sweep(timeout);
      }
    }
  }

  // epoll_wait without sleeping, until something is ready or the busy-poll
  // budget (counted from the end of the last wake-up's work) is spent;
  // tells the policy which.
  int poll(std::array<epoll_event, 256>& events) {
    const auto until = work_done_ + busy_poll_.budget();
    int n = 0;
    do {
      n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 0);
    } while (n == 0 && std::chrono::steady_clock::now() < until);
    busy_poll_.record(n > 0);
    return std::max(n, 0);
  }

  Conn* conn(int fd) {
    const auto i = static_cast<std::size_t>(fd);
    return i < conns_.size() ? conns_[i].get() : nullptr;
  }

  void accept_all(int listener) {
    resp::Stats& stats = shared_->stats;
    for (;;) {
      const int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN (another loop took it), EMFILE, ...: keep serving
      stats.connections_received.fetch_add(1, std::memory_order_relaxed);
      if (stats.connected_clients.fetch_add(1, std::memory_order_relaxed) >=
          static_cast<std::int64_t>(shared_->options.max_clients)) {
        // Redis refuses a connection over maxclients with this line.
        static constexpr std::string_view kMsg = "-ERR max number of clients reached\r\n";
        [[maybe_unused]] auto w = ::write(fd, kMsg.data(), kMsg.size());
        ::close(fd);
        stats.connected_clients.fetch_sub(1, std::memory_order_relaxed);
        stats.connections_rejected.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // fails harmlessly on Unix sockets
      const auto i = static_cast<std::size_t>(fd);
      if (i >= conns_.size()) conns_.resize(std::max<std::size_t>(i + 1, conns_.size() * 2));
      conns_[i] = std::make_unique<Conn>(fd, *shared_, cache_, now_s_);
      resp::ClientState& client = conns_[i]->session.client();
      client.addr = socket_name(fd, true);
      client.laddr = socket_name(fd, false);
      client.fd = fd;
      if (!add(fd, kConnEvents)) {
        SPDLOG_WARN("RESP: cannot watch a new connection ({}); closing it", std::strerror(errno));
        close_conn(*conns_[i]);
      }
    }
  }

  void close_conn(Conn& c) {
    const int fd = c.fd;
    ::close(fd);  // also leaves the epoll set
    conns_[static_cast<std::size_t>(fd)].reset();
    shared_->stats.connected_clients.fetch_sub(1, std::memory_order_relaxed);
  }

  // One read and the replies of every complete command in it. The write
  // waits until every ready connection of this wake-up has been read (as
  // Redis does before it sleeps): the client then finds all its replies at
  // once, and the next wake-up finds more requests waiting.
  //
  // Connections are edge-triggered: epoll reports new bytes once, so a read
  // that fills the buffer may have left more behind. That connection is
  // read again on the next turn of the loop, after the connections epoll
  // reports then (where level-triggered epoll would have reported it), not
  // at once, so one flooding client cannot starve the others. The end of
  // input arriving with the last bytes raises no edge of its own either, so
  // once epoll has said the client shut its side (EPOLLRDHUP), every read
  // that brings bytes is followed by another next turn, until EOF. Why not
  // level-triggered: it puts every connection it reports back on its ready
  // list, for the next epoll_wait to poll once more, a tcp_poll per request
  // for nothing (measured: bench/RESULTS.md, "RESP busy-poll budget").
  void on_readable(Conn& c) {
    const ssize_t n = ::read(c.fd, in_.data(), in_.size());
    if (n < 0) {
      if (errno == EINTR) reread_.push_back(c.fd);
      if (errno != EAGAIN && errno != EINTR) close_conn(c);  // reset
      return;
    }
    if (n == 0) {  // EOF: the client shut its side; it still gets what it is owed
      close_after_replies(c);
      return;
    }
    if (static_cast<std::size_t>(n) == in_.size() || c.input_ended) reread_.push_back(c.fd);
    if (c.last_active_s != now_s_) {
      c.last_active_s = now_s_;
      c.session.client().last_s = now_s_;
    }
    ++reads_;
    const std::uint64_t before = c.session.commands_run();
    const auto started = std::chrono::steady_clock::now();
    bool keep = c.session.feed(std::string_view(in_.data(), static_cast<std::size_t>(n)), c.out);
    const std::uint64_t ran = c.session.commands_run() - before;
    if (ran != 0) {
      const auto took = std::chrono::steady_clock::now() - started;
      latency_[ran == 1 ? command_slot(c.session.client().last_command) : kPipelineSlot].observe(
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()));
    }
    commands_ += ran;
    while (keep && c.session.paused()) {  // a big batch of replies, in slices
      if (!deliver(c)) return;
      keep = c.session.resume(c.out);
    }
    if (!keep) {
      close_after_replies(c);
      return;
    }
    if (!c.out.empty() && !c.queued) {
      c.queued = true;
      ready_.push_back(c.fd);
    }
  }

  // QUIT, a protocol error, EOF: sends the replies due, then closes, now or
  // once flush() has sent what the kernel did not take.
  void close_after_replies(Conn& c) {
    c.closing = true;
    if (deliver(c) && c.pending.empty()) close_conn(c);
  }

  // The reads on_readable() left for this turn of the loop.
  void reread_owed() {
    for (int fd : rereading_) {
      Conn* c = conn(fd);  // closed since (and maybe its fd reused): a read finds nothing or new bytes
      if (c != nullptr && !c->closing) on_readable(*c);
    }
    rereading_.clear();
  }

  // The writes held back by on_readable(), one per connection.
  void deliver_ready() {
    for (int fd : ready_) {
      Conn* c = conn(fd);
      if (c == nullptr || !c->queued) continue;  // closed (and maybe its fd reused) since
      c->queued = false;
      deliver(*c);
    }
    ready_.clear();
  }

  // Sends c.out (after anything still pending). False: the client is gone.
  bool deliver(Conn& c) {
    if (c.out.empty()) return true;
    const std::string& out = c.out;
    if (!c.pending.empty()) {
      c.pending.append(out);
    } else {
      const ssize_t w = ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        close_conn(c);
        return false;
      }
      const auto sent = static_cast<std::size_t>(std::max<ssize_t>(w, 0));
      if (sent < out.size()) {
        c.pending.assign(out, sent);
        if (!set_events(c.fd, kConnEvents | EPOLLOUT)) {
          close_conn(c);  // it would never hear that it can write again
          return false;
        }
      }
    }
    c.out.clear();
    if (c.out.capacity() > kKeptOutCapacity) std::string().swap(c.out);  // give back a large batch
    if (c.pending.empty()) return true;
    if (c.pending.size() > shared_->options.max_output_buffer) {
      shared_->stats.output_buffer_drops.fetch_add(1, std::memory_order_relaxed);
      close_conn(c);
      return false;
    }
    return true;
  }

  // Writable again: send what is pending. False: the connection was closed.
  bool flush(Conn& c) {
    const ssize_t w = ::send(c.fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
      close_conn(c);
      return false;
    }
    if (w > 0) {
      c.pending.erase(0, static_cast<std::size_t>(w));
      c.last_active_s = now_s_;
    }
    if (!c.pending.empty()) return true;
    if (c.closing) {
      close_conn(c);
      return false;
    }
    std::string().swap(c.pending);  // give back a large buffer
    if (!set_events(c.fd, kConnEvents)) {
      close_conn(c);
      return false;
    }
    return true;
  }

  void sweep(int timeout) {
    const std::int64_t now = now_s_;
    for (auto& c : conns_) {
      if (c && now - c->last_active_s > timeout) {
        shared_->stats.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
        close_conn(*c);
      }
    }
  }

  std::shared_ptr<Shared> shared_;
  std::vector<int> listeners_;  // owned by RespServer's acceptors
  int ep_ = -1;
  int wake_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  RingCache cache_;
  std::vector<std::unique_ptr<Conn>> conns_;  // by fd
  std::int64_t now_s_ = coarse_now_s();  // read after each epoll_wait
  std::array<char, 16 * 1024> in_{};
  std::vector<int> ready_;   // connections with replies in Conn::out, in read order
  std::vector<int> reread_;  // read again next turn: the last read filled in_, was interrupted, or input has ended
  std::vector<int> rereading_;  // this turn's share of reread_
  BusyPollPolicy busy_poll_;
  std::chrono::steady_clock::time_point work_done_;  // when the last timed wake-up handed over its replies
  std::uint64_t reads_ = 0;     // this wake-up: reads that brought bytes
  std::uint64_t commands_ = 0;  // and the commands feed() ran for them

 public:
  // Time to run the commands of one read (parse, look up, write replies
  // into the buffer; no system call), by command when the read held one
  // (the nginx case), in kPipelineSlot when it held several. Two clock
  // reads per read(), against the read() and write() it already costs.
  static constexpr std::size_t kPipelineSlot = resp::Stats::kMaxCommands;
  const LatencyHistogram& latency(std::size_t slot) const { return latency_[slot]; }

 private:
  // The Stats::calls slot of a command's full name ("get", "client|info"),
  // remembered for the last name seen (the table's names are static text).
  std::size_t command_slot(std::string_view name) {
    if (name.data() != last_name_) {
      last_name_ = name.data();
      const resp::CommandSpec* top = resp::find_command(name.substr(0, name.find('|')));
      last_slot_ = top != nullptr ? resp::command_index(*top) : kPipelineSlot;
    }
    return last_slot_;
  }
  std::array<LatencyHistogram, resp::Stats::kMaxCommands + 1> latency_;
  const char* last_name_ = nullptr;
  std::size_t last_slot_ = kPipelineSlot;
};

RespServer::RespServer(asio::io_context& io, const RingPublisher& publisher, RespServerOptions options)
    : acceptor_(io), unix_acceptor_(io), shared_(std::make_shared<Shared>(publisher, std::move(options))) {}

RespServer::~RespServer() { stop(); }

const resp::Stats& RespServer::stats() const { return shared_->stats; }

std::vector<RespServer::CommandMetrics> RespServer::command_metrics() const {
  std::vector<CommandMetrics> out;
  const auto commands = resp::all_commands();
  for (std::size_t slot = 0; slot <= Loop::kPipelineSlot; ++slot) {
    CommandMetrics m;
    m.name = slot < commands.size() ? commands[slot].name : slot == Loop::kPipelineSlot ? "pipeline" : "";
    if (m.name.empty()) continue;
    m.calls = slot < commands.size() ? shared_->stats.calls[slot].load(std::memory_order_relaxed) : 0;
    for (const auto& loop : loops_) LatencyHistogram::add(m.latency, loop->latency(slot).snapshot());
    if (m.calls != 0 || m.latency.count != 0) out.push_back(m);
  }
  return out;
}

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

void RespServer::bind(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
}

void RespServer::bind_unix() {
  const std::string& path = shared_->options.unix_path;
  if (path.empty()) return;
  ::unlink(path.c_str());  // a stale socket file from a previous run
  unix_acceptor_.open();
  unix_acceptor_.bind(asio::local::stream_protocol::endpoint(path));
}

void RespServer::start() {
  acceptor_.listen(asio::socket_base::max_listen_connections);
  acceptor_.non_blocking(true);
  shared_->tcp_port = acceptor_.local_endpoint().port();
  std::vector<int> listeners{acceptor_.native_handle()};
  if (unix_acceptor_.is_open()) {
    unix_acceptor_.listen(asio::socket_base::max_listen_connections);
    unix_acceptor_.non_blocking(true);
    listeners.push_back(unix_acceptor_.native_handle());
  }
  const int threads = std::max(1, shared_->options.threads);
  for (int i = 0; i < threads; ++i) loops_.push_back(std::make_unique<Loop>(shared_, listeners));
  for (auto& loop : loops_) loop->start();
}

void RespServer::stop() {
  for (auto& loop : loops_) loop->stop();
  loops_.clear();  // closes the connections
  error_code ignored;
  if (acceptor_.is_open()) acceptor_.close(ignored);
  if (unix_acceptor_.is_open()) {
    unix_acceptor_.close(ignored);
    ::unlink(shared_->options.unix_path.c_str());
  }
}

}  // namespace ringd::agent
