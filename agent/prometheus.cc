#include "agent/prometheus.h"

#include <charconv>
#include <cmath>

namespace ringd::agent {

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot s;
  for (std::size_t i = 0; i < buckets_.size(); ++i) s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  s.count = count_.load(std::memory_order_relaxed);
  s.sum = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9;
  return s;
}

void LatencyHistogram::add(Snapshot& into, const Snapshot& from) {
  for (std::size_t i = 0; i < into.buckets.size(); ++i) into.buckets[i] += from.buckets[i];
  into.count += from.count;
  into.sum += from.sum;
}

namespace {

// Appends `text` escaped as the format wants: \ and newline always, " too
// inside a label value (HELP text leaves it as is).
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

void PromText::family(std::string_view name, std::string_view type, std::string_view help) {
  family_.assign(name);
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PromText::series(std::string_view suffix, const PromLabels& labels, std::string_view extra_name,
                      std::string_view extra_value) {
  out_ += family_;
  out_ += suffix;
  if (labels.empty() && extra_name.empty()) {
    out_ += ' ';
    return;
  }
  out_ += '{';
  bool first = true;
  auto label = [&](std::string_view name, std::string_view value) {
    if (!first) out_ += ',';
    first = false;
    out_ += name;
    out_ += "=\"";
    append_escaped(out_, value, true);
    out_ += '"';
  };
  for (const auto& [name, value] : labels) label(name, value);
  if (!extra_name.empty()) label(extra_name, extra_value);
  out_ += "} ";
}

void PromText::value(double v) {
  if (std::isnan(v)) {
    out_ += "NaN";
  } else if (std::isinf(v)) {
    out_ += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, ec == std::errc() ? end : buf);
  }
  out_ += '\n';
}

void PromText::sample(const PromLabels& labels, double v) {
  series({}, labels);
  value(v);
}

void PromText::histogram(const PromLabels& labels, const LatencyHistogram::Snapshot& h) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    cumulative += h.buckets[i];
    char le[32];
    auto [end, ec] = std::to_chars(le, le + sizeof le, kLatencyBuckets[i]);
    series("_bucket", labels, "le", std::string_view(le, ec == std::errc() ? static_cast<std::size_t>(end - le) : 0));
    value(static_cast<double>(cumulative));
  }
  series("_bucket", labels, "le", "+Inf");
  value(static_cast<double>(h.count));
  series("_sum", labels);
  value(h.sum);
  series("_count", labels);
  value(static_cast<double>(h.count));
}

}  // namespace ringd::agent
