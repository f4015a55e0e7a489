#include "agent/gossip_driver.h"

#include <algorithm>
#include <array>

#include <spdlog/spdlog.h>

#include "agent/address.h"
#include "agent/deadline.h"
#include "gossip/transport.h"

namespace ringd::agent {
namespace {

constexpr auto kStreamTimeout = std::chrono::seconds(3);

gossip::Time gossip_time(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<gossip::Time>(t.time_since_epoch());
}

std::array<unsigned char, 4> frame_header(std::size_t size) {
  return {static_cast<unsigned char>(size >> 24), static_cast<unsigned char>(size >> 16),
          static_cast<unsigned char>(size >> 8), static_cast<unsigned char>(size)};
}

std::size_t frame_size(const std::array<unsigned char, 4>& h) {
  return (std::size_t{h[0]} << 24) | (std::size_t{h[1]} << 16) | (std::size_t{h[2]} << 8) | h[3];
}

constexpr std::size_t kReadChunk = 64 * 1024;

// Reads one frame into `body`; an error code on failure
// (asio::error::message_size when the frame is over `limit`). The body
// grows as its bytes arrive, so a header that promises much costs nothing
// until the bytes come. With `held`, every byte read is added to it and
// `mine` as well, and the read fails (asio::error::no_buffer_space) once
// `held` would pass `budget`.
asio::awaitable<boost::system::error_code> read_frame(tcp::socket& socket, std::string& body,
                                                      std::size_t limit, std::uint64_t& oversize,
                                                      std::size_t* held = nullptr,
                                                      std::size_t* mine = nullptr,
                                                      std::size_t budget = 0) {
  std::array<unsigned char, 4> header{};
  boost::system::error_code ec;
  co_await asio::async_read(socket, asio::buffer(header), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return ec;
  const std::size_t size = frame_size(header);
  if (size > limit) {
    ++oversize;
    co_return asio::error::message_size;
  }
  body.clear();
  while (body.size() < size) {
    const std::size_t n = std::min(kReadChunk, size - body.size());
    if (held != nullptr) {
      if (*held + n > budget) co_return asio::error::no_buffer_space;
      *held += n;
      *mine += n;
    }
    const std::size_t old = body.size();
    body.resize(old + n);
    co_await asio::async_read(socket, asio::buffer(body.data() + old, n),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
  }
  co_return ec;
}

asio::awaitable<boost::system::error_code> write_frame(tcp::socket& socket, const std::string& body) {
  auto header = frame_header(body.size());
  std::array<asio::const_buffer, 2> buffers{asio::buffer(header), asio::buffer(body)};
  boost::system::error_code ec;
  co_await asio::async_write(socket, buffers, asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

// Why a stream to a peer failed, for the log: "Connection refused", "no
// answer within 3 s", ...
std::string stream_failure(const boost::system::error_code& ec, std::chrono::steady_clock::duration took) {
  if (took >= kStreamTimeout) return "no answer within " + std::to_string(kStreamTimeout.count()) + " s";
  if (ec == asio::error::message_size) return "reply over the stream size limit";
  if (ec == asio::error::eof) {
    return "the peer closed the connection without a reply (do both use the same --keyring and --label?)";
  }
  return ec.message();
}

// The node packs datagrams up to max_packet_size; a sealed one is
// kSealOverhead bytes longer, so the node leaves that much room.
gossip::Config leave_room_for_seal(gossip::Config config, const SecurityConfig& security) {
  if (security.keyring) config.max_packet_size -= std::min(config.max_packet_size / 2, kSealOverhead);
  return config;
}

}  // namespace

GossipDriver::GossipDriver(asio::io_context& io, gossip::Config config, std::uint64_t seed, SecurityConfig security)
    : io_(io),
      max_stream_(std::min(config.max_stream_size, kMaxStreamFrame) + (security.keyring ? kSealOverhead : 0)),
      security_(security),
      node_(leave_room_for_seal(std::move(config), security), seed),
      udp_(io),
      acceptor_(io),
      timer_(io) {
  // Our "keyring" tag follows the keyring, so others see which keys we hold.
  security_.on_change([this] {
    if (!set_tags(node_.self().tags)) {
      spdlog::warn("keyring changed, but the tag {} no longer fits in the member metadata; others see the old one",
                   GossipSecurity::kKeyringTag);
    }
  });
}

gossip::Time GossipDriver::now() const { return gossip_time(std::chrono::steady_clock::now()); }

void GossipDriver::bind(const udp::endpoint& bind) {
  udp_.open(bind.protocol());
  udp_.bind(bind);
  tcp::endpoint tcp_bind(bind.address(), bind.port());
  acceptor_.open(tcp_bind.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(tcp_bind);
  acceptor_.listen();
}

void GossipDriver::start(std::vector<std::string> seeds, EventsHandler on_events) {
  on_events_ = std::move(on_events);
  asio::co_spawn(io_, receive_loop(), asio::detached);
  asio::co_spawn(io_, accept_loop(), asio::detached);
  node_.start(now(), std::move(seeds));
  flush();
}

class GossipDriver::Outlet final : public gossip::Outputs {
 public:
  explicit Outlet(GossipDriver& d) : d_(d) {}
  void send_datagram(gossip::Datagram d) override {
    auto to = d_.addresses_.endpoint(d.to);
    if (!to) {
      ++d_.udp_send_errors_;
      return;
    }
    boost::system::error_code ec;
    const std::string_view bytes = d_.security_.seal_datagram(d.bytes, &d_.sealed_);
    // A blocking socket, but a datagram send waits only while the socket's
    // send buffer is full; a failure is counted, never retried.
    d_.udp_.send_to(asio::buffer(bytes.data(), bytes.size()), *to, 0, ec);
    if (ec) ++d_.udp_send_errors_;
  }
  void send_stream(gossip::StreamRequest r) override {
    asio::co_spawn(d_.io_, d_.send_stream(std::move(r)), asio::detached);
  }
  // Rate-limited by the node. Two agents with one name is a deployment
  // error that changes where requests go: say it at error level.
  void notice(std::string line) override {
    if (line.starts_with("name conflict:")) {
      spdlog::error("{}", line);
    } else {
      spdlog::warn("{}", line);
    }
  }
  void events(std::vector<gossip::Event> events) override {
    if (d_.on_events_) d_.on_events_(events);
  }

 private:
  GossipDriver& d_;
};

void GossipDriver::flush() {
  Outlet out(*this);
  gossip::drain(node_, out);
  check_leave();
  arm_timer();
}

void GossipDriver::arm_timer() {
  auto deadline = std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(node_.next_deadline()));
  if (timer_.expiry() == deadline) return;  // already waiting for it
  timer_.expires_at(deadline);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // re-armed or stopped
    node_.tick(now());
    flush();
  });
}

asio::awaitable<void> GossipDriver::receive_loop() {
  std::vector<char> buffer(64 * 1024);
  udp::endpoint from;
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = co_await udp_.async_receive_from(asio::buffer(buffer), from,
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !udp_.is_open()) co_return;
    if (ec) continue;  // e.g. ICMP port unreachable surfaced as connection_refused
    const std::string& sender = addresses_.text(from);
    const auto received = std::chrono::steady_clock::now();
    auto packet = security_.open(sender, std::string_view(buffer.data(), n), &opened_, received);
    if (!packet) {  // counted by reason
      if (auto notice = security_.take_notice(received)) spdlog::warn("{}", *notice);
      continue;
    }
    node_.handle_packet(gossip_time(received), sender, *packet);  // its receive time
    flush();
  }
}

asio::awaitable<void> GossipDriver::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) continue;
    auto peer = socket.remote_endpoint(ec);
    std::string peer_ip = ec ? std::string() : peer.address().to_string();
    Inbound& in = *inbound_;
    if (ec || in.streams >= kMaxInboundStreams || in.per_peer[peer_ip] >= kMaxInboundStreamsPerPeer) {
      if (!ec && in.per_peer[peer_ip] == 0) in.per_peer.erase(peer_ip);
      ++stream_rejected_;
      socket.close(ec);
      continue;
    }
    ++in.streams;
    ++in.per_peer[peer_ip];
    asio::co_spawn(io_, serve_stream(std::move(socket), std::move(peer_ip)), asio::detached);
  }
}

asio::awaitable<void> GossipDriver::serve_stream(tcp::socket accepted, std::string peer_ip) {
  // Gives back this stream's slot and bytes however the coroutine ends.
  struct Release {
    std::shared_ptr<Inbound> in;
    std::string peer_ip;
    std::size_t bytes = 0;
    ~Release() {
      in->bytes -= bytes;
      --in->streams;
      if (--in->per_peer[peer_ip] == 0) in->per_peer.erase(peer_ip);
    }
  } release{inbound_, std::move(peer_ip)};
  auto socket = std::make_shared<tcp::socket>(std::move(accepted));
  Deadline deadline(socket, kStreamTimeout);
  boost::system::error_code ec;
  auto peer = socket->remote_endpoint(ec);
  std::string request;
  if (!ec) {
    ec = co_await read_frame(*socket, request, max_stream_, stream_oversize_, &inbound_->bytes,
                             &release.bytes, kMaxInboundBytes);
  }
  if (ec) {
    ++inbound_stream_errors_;
    co_return;
  }
  std::string opened;
  bool sealed = false;
  auto plain = security_.open({}, request, &opened, std::chrono::steady_clock::now(), &sealed);
  if (!plain) {  // counted by reason; the peer sees the connection close
    if (auto notice = security_.take_notice(std::chrono::steady_clock::now())) spdlog::warn("{}", *notice);
    co_return;
  }
  ++streams_served_;
  std::string reply = security_.seal_stream_reply(node_.handle_stream(now(), format_endpoint(peer), *plain), sealed);
  flush();
  if (!reply.empty() && co_await write_frame(*socket, reply)) ++inbound_stream_errors_;
}

asio::awaitable<void> GossipDriver::send_stream(gossip::StreamRequest request) {
  auto to = parse_endpoint(request.to);
  std::string reply;
  std::string failure;
  std::string body = security_.seal_stream_request(std::move(request.bytes));
  if (to) {
    auto socket = std::make_shared<tcp::socket>(io_);
    Deadline deadline(socket, kStreamTimeout);
    const auto started = std::chrono::steady_clock::now();
    boost::system::error_code ec;
    co_await socket->async_connect(tcp::endpoint(to->address(), to->port()),
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) ec = co_await write_frame(*socket, body);
    if (!ec) ec = co_await read_frame(*socket, reply, max_stream_, stream_oversize_);
    if (ec) failure = stream_failure(ec, std::chrono::steady_clock::now() - started);
  } else {
    failure = "not an IP:PORT address";
  }
  std::string opened;
  std::optional<std::string_view> plain;
  if (failure.empty()) {
    plain = security_.open({}, reply, &opened, std::chrono::steady_clock::now());
    if (!plain) failure = "reply dropped: not sealed with a key we hold, or plaintext we refuse";
  }
  if (failure.empty()) {
    node_.handle_stream_reply(now(), request.id, *plain);
  } else {
    // Counted by the node as stream_errors (handle_stream_error).
    SPDLOG_DEBUG("stream request to {} failed: {}", request.to, failure);
    node_.handle_stream_error(now(), request.id, failure);
  }
  flush();
}

void GossipDriver::set_service_state(gossip::ServiceState state) {
  node_.set_service_state(now(), state);
  flush();
}

std::size_t GossipDriver::join(std::vector<std::string> addresses) {
  const std::size_t asked = node_.join(now(), std::move(addresses));
  flush();
  return asked;
}

gossip::Node::ForceLeave GossipDriver::force_leave(const std::string& name) {
  const auto result = node_.force_leave(now(), name);
  flush();
  return result;
}

bool GossipDriver::set_tags(gossip::Tags tags) {
  tags.erase(GossipSecurity::kKeyringTag);
  if (security_.has_keyring()) tags[GossipSecurity::kKeyringTag] = security_.keyring_tag();
  const bool ok = node_.set_metadata(now(), node_.self().service, std::move(tags));
  flush();
  return ok;
}

void GossipDriver::leave(std::chrono::milliseconds timeout, std::function<void()> done) {
  leave_done_ = std::move(done);
  leave_timer_ = std::make_unique<asio::steady_timer>(io_, timeout);
  leave_timer_->async_wait([this](boost::system::error_code ec) {
    if (ec || !leave_done_) return;
    spdlog::warn("graceful leave not confirmed within the leave timeout; exiting anyway");
    auto done = std::move(leave_done_);
    leave_done_ = nullptr;
    done();
  });
  node_.leave(now());
  flush();
}

void GossipDriver::check_leave() {
  if (!leave_done_ || !node_.leave_done()) return;
  auto done = std::move(leave_done_);
  leave_done_ = nullptr;
  if (leave_timer_) leave_timer_->cancel();
  // flush() has already handed the leave's datagrams to the kernel (send_to
  // is synchronous); posting runs done(), which stops the io_context, after
  // this handler has finished, never from inside flush().
  asio::post(io_, std::move(done));
}

std::vector<std::pair<std::string, std::uint64_t>> GossipDriver::counters() const {
  auto out = node_.counters();
  out.emplace_back("udp_send_errors", udp_send_errors_);
  // The node counts failed outbound streams as stream_errors; these are the
  // streams others opened to us that failed (read, write, deadline).
  out.emplace_back("inbound_stream_errors", inbound_stream_errors_);
  out.emplace_back("stream_oversize", stream_oversize_);
  out.emplace_back("streams_served", streams_served_);
  out.emplace_back("stream_rejected", stream_rejected_);
  out.emplace_back("streams_open", inbound_->streams);
  for (auto& counter : security_.counters()) out.push_back(std::move(counter));
  return out;
}

}  // namespace ringd::agent
