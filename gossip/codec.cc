// gossip/codec.cc — plain structs <-> generated protobuf classes.
#include "codec.h"

#include <limits>
#include <type_traits>

#include <google/protobuf/arena.h>
#include <google/protobuf/stubs/logging.h>

#include "gossip.pb.h"

namespace ringd::gossip::codec {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

proto::ServiceState service_state_to_proto(ServiceState s) {
  switch (s) {
    case ServiceState::kPassing: return proto::SERVICE_STATE_PASSING;
    case ServiceState::kFailing: return proto::SERVICE_STATE_FAILING;
    case ServiceState::kDraining: return proto::SERVICE_STATE_DRAINING;
    case ServiceState::kUnchecked: return proto::SERVICE_STATE_UNCHECKED;
  }
  return proto::SERVICE_STATE_FAILING;
}

// A state this version does not know keeps the service off the ring.
ServiceState service_state_from_proto(int s) {
  switch (s) {
    case proto::SERVICE_STATE_PASSING: return ServiceState::kPassing;
    case proto::SERVICE_STATE_DRAINING: return ServiceState::kDraining;
    case proto::SERVICE_STATE_UNCHECKED: return ServiceState::kUnchecked;
    default: return ServiceState::kFailing;
  }
}

template <class P>
void tags_to_proto(const Tags& tags, P* out) {
  for (const auto& [k, v] : tags) {
    auto* t = out->add_tags();
    t->set_key(k);
    t->set_value(v);
  }
}

template <class P>
bool tags_from_proto(const P& in, const DecodeLimits& lim, Tags* out) {
  if (static_cast<std::size_t>(in.tags_size()) > lim.max_tags) return false;
  std::size_t bytes = 0;
  out->clear();
  for (const auto& t : in.tags()) {
    if (t.key().empty() || t.key().size() > lim.max_string || t.value().size() > lim.max_string) {
      return false;
    }
    bytes += t.key().size() + t.value().size();
    if (bytes > lim.max_tag_bytes) return false;
    if (!out->emplace(t.key(), t.value()).second) return false;  // duplicate key
  }
  return true;
}

void ping_to_proto(const msg::Ping& m, proto::Ping* p) {
  p->set_seq(m.seq);
  p->set_target(m.target);
  p->set_source(m.source);
  p->set_source_address(m.source_address);
}

void ack_to_proto(const msg::Ack& m, proto::Ack* p) {
  p->set_seq(m.seq);
  p->set_source(m.source);
  p->set_digest(m.digest);
}

void to_proto(const msg::Message& in, proto::Message* out) {
  std::visit(Overloaded{
                 [&](const msg::Ping& m) { ping_to_proto(m, out->mutable_ping()); },
                 [&](const msg::Ack& m) { ack_to_proto(m, out->mutable_ack()); },
                 [&](const msg::Nack& m) {
                   auto* p = out->mutable_nack();
                   p->set_seq(m.seq);
                   p->set_source(m.source);
                 },
                 [&](const msg::PingReq& m) {
                   auto* p = out->mutable_ping_req();
                   p->set_seq(m.seq);
                   p->set_target(m.target);
                   p->set_target_address(m.target_address);
                   p->set_source(m.source);
                   p->set_source_address(m.source_address);
                 },
                 [&](const msg::Alive& m) {
                   auto* p = out->mutable_alive();
                   p->set_name(m.name);
                   p->set_address(m.address);
                   p->set_service(m.service);
                   p->set_incarnation(m.incarnation);
                   tags_to_proto(m.tags, p);
                   p->set_service_state(service_state_to_proto(m.service_state));
                 },
                 [&](const msg::Suspect& m) {
                   auto* p = out->mutable_suspect();
                   p->set_name(m.name);
                   p->set_incarnation(m.incarnation);
                   p->set_from(m.from);
                 },
                 [&](const msg::Dead& m) {
                   auto* p = out->mutable_dead();
                   p->set_name(m.name);
                   p->set_incarnation(m.incarnation);
                   p->set_from(m.from);
                   p->set_left(m.left);
                 },
             },
             in);
}

// A string that must be present and short.
bool good_name(const std::string& s, const DecodeLimits& limits) {
  return !s.empty() && s.size() <= limits.max_string;
}
// A string that may be empty but must be short.
bool good_opt(const std::string& s, const DecodeLimits& limits) {
  return s.size() <= limits.max_string;
}

DecodeStatus ping_from_proto(const proto::Ping& p, const DecodeLimits& lim, msg::Ping* out) {
  if (!good_name(p.target(), lim) || !good_name(p.source(), lim) ||
      !good_name(p.source_address(), lim)) {
    return DecodeStatus::kBadField;
  }
  *out = msg::Ping{p.seq(), p.target(), p.source(), p.source_address()};
  return DecodeStatus::kOk;
}

DecodeStatus ack_from_proto(const proto::Ack& p, const DecodeLimits& lim, msg::Ack* out) {
  if (!good_opt(p.source(), lim)) return DecodeStatus::kBadField;
  *out = msg::Ack{p.seq(), p.source(), p.digest()};
  return DecodeStatus::kOk;
}

DecodeStatus from_proto(const proto::Message& in, const DecodeLimits& lim, msg::Message* out) {
  switch (in.body_case()) {
    case proto::Message::kPing: {
      msg::Ping p;
      const DecodeStatus st = ping_from_proto(in.ping(), lim, &p);
      if (st == DecodeStatus::kOk) *out = std::move(p);
      return st;
    }
    case proto::Message::kAck: {
      msg::Ack a;
      const DecodeStatus st = ack_from_proto(in.ack(), lim, &a);
      if (st == DecodeStatus::kOk) *out = std::move(a);
      return st;
    }
    case proto::Message::kNack: {
      const auto& p = in.nack();
      if (!good_opt(p.source(), lim)) return DecodeStatus::kBadField;
      *out = msg::Nack{p.seq(), p.source()};
      return DecodeStatus::kOk;
    }
    case proto::Message::kPingReq: {
      const auto& p = in.ping_req();
      if (!good_name(p.target(), lim) || !good_name(p.target_address(), lim) ||
          !good_name(p.source(), lim) || !good_name(p.source_address(), lim)) {
        return DecodeStatus::kBadField;
      }
      *out = msg::PingReq{p.seq(), p.target(), p.target_address(), p.source(),
                          p.source_address()};
      return DecodeStatus::kOk;
    }
    case proto::Message::kAlive: {
      const auto& p = in.alive();
      if (!good_name(p.name(), lim) || !good_name(p.address(), lim) ||
          !good_opt(p.service(), lim)) {
        return DecodeStatus::kBadField;
      }
      msg::Alive a{p.name(), p.address(), p.service(), p.incarnation(), {}, service_state_from_proto(p.service_state())};
      if (!tags_from_proto(p, lim, &a.tags)) return DecodeStatus::kBadField;
      *out = std::move(a);
      return DecodeStatus::kOk;
    }
    case proto::Message::kSuspect: {
      const auto& p = in.suspect();
      if (!good_name(p.name(), lim) || !good_opt(p.from(), lim)) return DecodeStatus::kBadField;
      *out = msg::Suspect{p.name(), p.incarnation(), p.from()};
      return DecodeStatus::kOk;
    }
    case proto::Message::kDead: {
      const auto& p = in.dead();
      if (!good_name(p.name(), lim) || !good_opt(p.from(), lim)) return DecodeStatus::kBadField;
      *out = msg::Dead{p.name(), p.incarnation(), p.from(), p.left()};
      return DecodeStatus::kOk;
    }
    case proto::Message::BODY_NOT_SET:
      break;
  }
  return DecodeStatus::kBadField;  // empty or unknown oneof
}

proto::MemberState state_to_proto(MemberState s) {
  switch (s) {
    case MemberState::kAlive: return proto::MEMBER_STATE_ALIVE;
    case MemberState::kSuspect: return proto::MEMBER_STATE_SUSPECT;
    case MemberState::kDead: return proto::MEMBER_STATE_DEAD;
    case MemberState::kLeft: return proto::MEMBER_STATE_LEFT;
  }
  return proto::MEMBER_STATE_ALIVE;
}

bool state_from_proto(int s, MemberState* out) {
  switch (s) {
    case proto::MEMBER_STATE_ALIVE: *out = MemberState::kAlive; return true;
    case proto::MEMBER_STATE_SUSPECT: *out = MemberState::kSuspect; return true;
    case proto::MEMBER_STATE_DEAD: *out = MemberState::kDead; return true;
    case proto::MEMBER_STATE_LEFT: *out = MemberState::kLeft; return true;
    default: return false;
  }
}

template <class P>
bool parse(std::string_view bytes, P* p) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
  // protobuf writes a line to stderr for every string that is not UTF-8:
  // one line per hostile datagram. The caller counts the drop instead.
  const google::protobuf::LogSilencer quiet;
  return p->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

// Messages are built on an arena: one allocation per block instead of one
// per string and sub-message (a push-pull page holds thousands of each).
// The first 4 KB are on the stack, enough for a datagram.
class ProtoArena {
 public:
  ProtoArena() : arena_(options(initial_, sizeof initial_)) {}
  template <class P>
  P& make() {
    return *google::protobuf::Arena::CreateMessage<P>(&arena_);
  }

 private:
  static google::protobuf::ArenaOptions options(char* block, std::size_t size) {
    google::protobuf::ArenaOptions o;
    o.initial_block = block;
    o.initial_block_size = size;
    o.max_block_size = 256 * 1024;
    return o;
  }
  alignas(8) char initial_[4096];
  google::protobuf::Arena arena_;
};

}  // namespace

std::string encode(const msg::Packet& packet) {
  ProtoArena arena;
  auto& p = arena.make<proto::Packet>();
  p.set_version(packet.version);
  for (const auto& m : packet.messages) to_proto(m, p.add_messages());
  return p.SerializeAsString();
}

namespace {

void push_pull_to_proto(const msg::PushPull& push_pull, proto::PushPull* pp) {
  pp->set_join(push_pull.join);
  pp->set_source(push_pull.source);
  for (const auto& m : push_pull.members) {
    auto* e = pp->add_members();
    e->set_name(m.name);
    e->set_address(m.address);
    e->set_service(m.service);
    e->set_incarnation(m.incarnation);
    e->set_state(state_to_proto(m.state));
    tags_to_proto(m.tags, e);
    e->set_service_state(service_state_to_proto(m.service_state));
  }
}

DecodeStatus push_pull_from_proto(const proto::PushPull& pp, const DecodeLimits& limits,
                                  msg::PushPull* out) {
  if (static_cast<std::size_t>(pp.members_size()) > limits.max_members) {
    return DecodeStatus::kTooManyEntries;
  }
  if (!good_name(pp.source(), limits)) return DecodeStatus::kBadField;
  out->join = pp.join();
  out->source = pp.source();
  out->members.clear();
  out->members.reserve(static_cast<std::size_t>(pp.members_size()));
  for (const auto& e : pp.members()) {
    msg::MemberEntry m;
    if (!good_name(e.name(), limits) || !good_name(e.address(), limits) ||
        !good_opt(e.service(), limits) || !state_from_proto(e.state(), &m.state) ||
        !tags_from_proto(e, limits, &m.tags)) {
      return DecodeStatus::kBadField;
    }
    m.name = e.name();
    m.address = e.address();
    m.service = e.service();
    m.incarnation = e.incarnation();
    m.service_state = service_state_from_proto(e.service_state());
    out->members.push_back(std::move(m));
  }
  return DecodeStatus::kOk;
}

}  // namespace

std::string encode(const msg::PushPull& push_pull) {
  ProtoArena arena;
  auto& s = arena.make<proto::Stream>();
  s.set_version(push_pull.version);
  push_pull_to_proto(push_pull, s.mutable_push_pull());
  return s.SerializeAsString();
}

std::string encode(const msg::Stream& stream) {
  ProtoArena arena;
  auto& s = arena.make<proto::Stream>();
  s.set_version(msg::kProtocolVersion);
  std::visit(Overloaded{
                 [&](const msg::PushPull& pp) {
                   s.set_version(pp.version);
                   push_pull_to_proto(pp, s.mutable_push_pull());
                 },
                 [&](const msg::Ping& p) { ping_to_proto(p, s.mutable_ping()); },
                 [&](const msg::Ack& a) { ack_to_proto(a, s.mutable_ack()); },
             },
             stream);
  return s.SerializeAsString();
}

std::size_t metadata_size(const std::string& service, const Tags& tags) {
  proto::Alive a;
  a.set_service(service);
  tags_to_proto(tags, &a);
  return a.ByteSizeLong();
}

std::size_t encoded_size(const msg::Message& message) {
  proto::Message m;
  to_proto(message, &m);
  const std::size_t body = m.ByteSizeLong();
  std::size_t varint = 1;
  for (std::size_t v = body; v >= 0x80; v >>= 7) ++varint;
  return 1 + varint + body;
}

std::size_t packet_header_size() {
  proto::Packet p;
  p.set_version(msg::kProtocolVersion);
  return p.ByteSizeLong();
}

DecodeStatus decode(std::string_view bytes, const DecodeLimits& limits, msg::Packet* out) {
  if (bytes.size() > limits.max_bytes) return DecodeStatus::kOversize;
  ProtoArena arena;
  auto& p = arena.make<proto::Packet>();
  if (!parse(bytes, &p)) return DecodeStatus::kMalformed;
  if (p.version() != msg::kProtocolVersion) return DecodeStatus::kBadVersion;
  if (static_cast<std::size_t>(p.messages_size()) > limits.max_messages) {
    return DecodeStatus::kTooManyEntries;
  }
  out->version = p.version();
  out->messages.clear();
  out->messages.reserve(static_cast<std::size_t>(p.messages_size()));
  for (const auto& m : p.messages()) {
    msg::Message decoded;
    const DecodeStatus st = from_proto(m, limits, &decoded);
    if (st != DecodeStatus::kOk) return st;
    out->messages.push_back(std::move(decoded));
  }
  return DecodeStatus::kOk;
}

DecodeStatus decode(std::string_view bytes, const DecodeLimits& limits, msg::PushPull* out) {
  msg::Stream st;
  const DecodeStatus status = decode(bytes, limits, &st);
  if (status != DecodeStatus::kOk) return status;
  auto* pp = std::get_if<msg::PushPull>(&st);
  if (pp == nullptr) return DecodeStatus::kBadField;
  *out = std::move(*pp);
  return DecodeStatus::kOk;
}

DecodeStatus decode(std::string_view bytes, const DecodeLimits& limits, msg::Stream* out) {
  if (bytes.size() > limits.max_bytes) return DecodeStatus::kOversize;
  ProtoArena arena;
  auto& s = arena.make<proto::Stream>();
  if (!parse(bytes, &s)) return DecodeStatus::kMalformed;
  if (s.version() != msg::kProtocolVersion) return DecodeStatus::kBadVersion;
  switch (s.body_case()) {
    case proto::Stream::kPushPull: {
      msg::PushPull pp;
      pp.version = s.version();
      const DecodeStatus st = push_pull_from_proto(s.push_pull(), limits, &pp);
      if (st == DecodeStatus::kOk) *out = std::move(pp);
      return st;
    }
    case proto::Stream::kPing: {
      msg::Ping p;
      const DecodeStatus st = ping_from_proto(s.ping(), limits, &p);
      if (st == DecodeStatus::kOk) *out = std::move(p);
      return st;
    }
    case proto::Stream::kAck: {
      msg::Ack a;
      const DecodeStatus st = ack_from_proto(s.ack(), limits, &a);
      if (st == DecodeStatus::kOk) *out = std::move(a);
      return st;
    }
    case proto::Stream::BODY_NOT_SET:
      break;
  }
  return DecodeStatus::kBadField;
}

}  // namespace ringd::gossip::codec
