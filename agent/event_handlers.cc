#include "agent/event_handlers.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstring>

#include <spdlog/spdlog.h>

extern char** environ;

namespace ringd::agent {
namespace {

const std::set<std::string>& known_events() {
  static const std::set<std::string> names = {"member-join", "member-leave", "member-failed", "member-update"};
  return names;
}

std::string env_key(const std::string& key) {
  std::string out;
  for (unsigned char c : key) out += std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_';
  return out;
}

}  // namespace

std::optional<EventHandlerSpec> parse_event_handler(const std::string& text, std::string* why) {
  EventHandlerSpec spec;
  const auto eq = text.find('=');
  // A filter is a comma list of event names before '='; a script may hold
  // '=' itself ("FOO=1 cmd"), so only take the prefix when every word of
  // it is an event name.
  if (eq != std::string::npos) {
    std::set<std::string> events;
    std::string_view rest(text.data(), eq);
    bool all_events = !rest.empty();
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string name(rest.substr(0, comma));
      all_events = all_events && known_events().count(name) > 0;
      events.insert(name);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    if (all_events) {
      spec.events = std::move(events);
      spec.script = text.substr(eq + 1);
    } else if (text.substr(0, eq).find_first_of(" \t/") == std::string::npos &&
               text.substr(0, eq).starts_with("member-")) {
      *why = "unknown event in '" + text.substr(0, eq) +
             "' (expected member-join, member-leave, member-failed, member-update)";
      return std::nullopt;
    } else {
      spec.script = text;
    }
  } else {
    spec.script = text;
  }
  if (spec.script.find_first_not_of(" \t") == std::string::npos) {
    *why = "no script to run";
    return std::nullopt;
  }
  return spec;
}

std::string serf_event_name(gossip::Event::Kind kind) {
  switch (kind) {
    case gossip::Event::Kind::kJoined:
    case gossip::Event::Kind::kAlive: return "member-join";
    case gossip::Event::Kind::kLeft: return "member-leave";
    case gossip::Event::Kind::kDead: return "member-failed";
    case gossip::Event::Kind::kUpdated: return "member-update";
    case gossip::Event::Kind::kSuspect: return "";
  }
  return "";
}

std::string member_line(const gossip::Member& m) {
  std::string tags;
  for (const auto& [k, v] : m.tags) {
    if (!tags.empty()) tags += ',';
    tags += k + "=" + v;
  }
  // Fields come from the network: a tab or line end in one would shift the
  // columns or add a member, so they become spaces.
  auto clean = [](std::string s) {
    for (char& c : s) c = (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
    return s;
  };
  return clean(m.name) + "\t" + clean(m.address) + "\t" + clean(m.service) + "\t" + clean(tags) + "\n";
}

std::vector<std::string> handler_environment(const std::string& event, const gossip::Member& self) {
  std::vector<std::string> env = {"RINGD_EVENT=" + event,          "SERF_EVENT=" + event,
                                  "RINGD_SELF_NAME=" + self.name, "SERF_SELF_NAME=" + self.name,
                                  "SERF_SELF_ROLE=" + self.service};
  for (const auto& [k, v] : self.tags) {
    env.push_back("RINGD_TAG_" + env_key(k) + "=" + v);
    env.push_back("SERF_TAG_" + env_key(k) + "=" + v);
  }
  return env;
}

// The invocation under way: its process (a pidfd tells when it exits), its
// output pipe, its stdin and its deadline.
struct EventHandlers::Running {
  Running(asio::io_context& io) : exited(io), output(io), input(io), deadline(io) {}
  pid_t pid = -1;
  std::string event, script, input_bytes, text;
  asio::posix::stream_descriptor exited;
  asio::posix::stream_descriptor output;
  asio::posix::stream_descriptor input;
  asio::steady_timer deadline;
  std::array<char, 4096> buffer{};
  bool timed_out = false;
  bool done = false;
};

EventHandlers::EventHandlers(asio::io_context& io, std::vector<EventHandlerSpec> specs,
                             std::chrono::milliseconds timeout)
    : io_(io), specs_(std::move(specs)), timeout_(timeout) {}

EventHandlers::~EventHandlers() {
  if (running_ && !running_->done && running_->pid > 0) {
    ::kill(-running_->pid, SIGKILL);
    ::waitpid(running_->pid, nullptr, 0);
  }
}

void EventHandlers::on_events(const std::vector<gossip::Event>& events, const gossip::Member& self) {
  if (specs_.empty()) return;
  // Coalesce: one invocation per event kind and handler, members in order.
  std::map<std::string, std::string> input_by_event;
  std::vector<std::string> order;
  for (const auto& e : events) {
    if (e.member.name == self.name) continue;
    const std::string name = serf_event_name(e.kind);
    if (name.empty()) continue;
    if (!input_by_event.count(name)) order.push_back(name);
    input_by_event[name] += member_line(e.member);
  }
  for (const auto& name : order) {
    for (const auto& spec : specs_) {
      if (!spec.events.empty() && !spec.events.count(name)) continue;
      if (queue_.size() >= kMaxQueued) {
        ++dropped_;
        spdlog::warn("event handler queue full ({} waiting): {} for '{}' dropped", kMaxQueued, name, spec.script);
        continue;
      }
      queue_.push_back({spec.script, name, input_by_event[name], handler_environment(name, self)});
    }
  }
  start_next();
}

void EventHandlers::start_next() {
  if (running_ || queue_.empty()) return;
  Invocation inv = std::move(queue_.front());
  queue_.pop_front();
  ++runs_;
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
    ++failures_;
    spdlog::warn("event handler '{}' not started: pipe: {}", inv.script, std::strerror(errno));
    return asio::post(io_, [this] { start_next(); });
  }
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    ++failures_;
    spdlog::warn("event handler '{}' not started: pipe: {}", inv.script, std::strerror(errno));
    return asio::post(io_, [this] { start_next(); });
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  std::vector<std::string> env_strings = inv.env;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", script = inv.script;
  char* argv[] = {sh.data(), dash_c.data(), script.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  const int pidfd = rc == 0 ? static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)) : -1;
  if (rc != 0 || pidfd < 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    if (rc == 0) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    ++failures_;
    spdlog::warn("event handler '{}' not started: {}", inv.script, std::strerror(rc != 0 ? rc : errno));
    return asio::post(io_, [this] { start_next(); });
  }
  auto r = std::make_shared<Running>(io_);
  running_ = r;
  r->pid = pid;
  r->event = inv.event;
  r->script = inv.script;
  r->input_bytes = std::move(inv.input);
  r->exited.assign(pidfd);
  r->output.assign(out_pipe[0]);
  r->input.assign(in_pipe[1]);
  // Its stdin: the members, then EOF. A handler that reads nothing makes
  // the write fail with EPIPE (run_agent ignores SIGPIPE), which is fine.
  asio::async_write(r->input, asio::buffer(r->input_bytes), [r](boost::system::error_code, std::size_t) {
    boost::system::error_code ignored;
    r->input.close(ignored);
  });
  // Its output, logged when it exits.
  std::shared_ptr<std::function<void()>> read_more = std::make_shared<std::function<void()>>();
  *read_more = [r, read_more] {
    r->output.async_read_some(asio::buffer(r->buffer), [r, read_more](boost::system::error_code ec, std::size_t n) {
      if (ec) {
        *read_more = nullptr;  // breaks the cycle
        return;
      }
      if (r->text.size() < kMaxOutput) r->text.append(r->buffer.data(), std::min(n, kMaxOutput - r->text.size()));
      (*read_more)();
    });
  };
  (*read_more)();
  r->deadline.expires_after(timeout_);
  r->deadline.async_wait([r](boost::system::error_code ec) {
    if (ec || r->done) return;
    r->timed_out = true;
    ::kill(-r->pid, SIGKILL);
  });
  r->exited.async_wait(asio::posix::stream_descriptor::wait_read, [this, r](boost::system::error_code ec) {
    if (ec) return;  // the agent is stopping
    int status = 0;
    ::waitpid(r->pid, &status, 0);
    r->done = true;
    finish(status, r->timed_out);
  });
}

void EventHandlers::finish(int status, bool timed_out) {
  auto r = running_;
  boost::system::error_code ignored;
  r->deadline.cancel();
  // What is left in the pipe now that the handler is gone (a child it
  // left behind may still hold the pipe open: take what is there, no more).
  ::fcntl(r->output.native_handle(), F_SETFL, O_NONBLOCK);
  for (;;) {
    const ssize_t n = ::read(r->output.native_handle(), r->buffer.data(), r->buffer.size());
    if (n <= 0) break;
    if (r->text.size() < kMaxOutput) {
      r->text.append(r->buffer.data(), std::min(static_cast<std::size_t>(n), kMaxOutput - r->text.size()));
    }
  }
  r->output.close(ignored);
  r->input.close(ignored);
  r->exited.close(ignored);
  std::size_t start = 0;
  while (start < r->text.size()) {
    const auto end = r->text.find('\n', start);
    const std::string line = r->text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty()) spdlog::info("event handler '{}' ({}): {}", r->script, r->event, line);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (timed_out) {
    ++timeouts_;
    ++failures_;
    spdlog::warn("event handler '{}' ({}) killed after {} ms", r->script, r->event, timeout_.count());
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ++failures_;
    spdlog::warn("event handler '{}' ({}) failed: {}", r->script, r->event,
                 WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                   : "killed by signal " + std::to_string(WTERMSIG(status)));
  }
  running_.reset();
  asio::post(io_, [this] { start_next(); });
}

std::vector<std::pair<std::string, std::uint64_t>> EventHandlers::counters() const {
  return {{"event_handler_runs", runs_},
          {"event_handler_failures", failures_},
          {"event_handler_timeouts", timeouts_},
          {"event_handler_dropped", dropped_},
          {"event_handler_queued", queue_.size()}};
}

}  // namespace ringd::agent
