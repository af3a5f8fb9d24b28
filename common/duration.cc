#include "common/duration.h"

#include <cmath>
#include <cstdio>
#include <utility>

#include "common/strings.h"

namespace reattest {
namespace {

constexpr std::pair<std::string_view, int64_t> kUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"µs", 1000},
    {"ms", 1000000},
    {"s", 1000000000},
    {"m", 60LL * 1000000000},
    {"h", 3600LL * 1000000000},
};

// Consumes the longest unit at the front of `text`.
bool ConsumeUnit(std::string_view& text, int64_t& nanos_per_unit) {
  size_t best = 0;
  for (const auto& [name, nanos] : kUnits) {
    if (text.starts_with(name) && name.size() > best) {
      best = name.size();
      nanos_per_unit = nanos;
    }
  }
  text.remove_prefix(best);
  return best > 0;
}

// Consumes `123` or `1.5` at the front of `text`.
bool ConsumeNumber(std::string_view& text, double& value) {
  size_t end = 0;
  bool seen_dot = false;
  bool seen_digit = false;
  while (end < text.size()) {
    char c = text[end];
    if (c >= '0' && c <= '9') {
      seen_digit = true;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
    ++end;
  }
  if (!seen_digit) {
    return false;
  }
  value = std::stod(std::string(text.substr(0, end)));
  text.remove_prefix(end);
  return true;
}

}  // namespace

absl::StatusOr<Duration> ParseDuration(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        Concat("invalid duration \"", text, "\": use Go syntax such as 300ms, 1.5s, 1m30s"));
  };
  if (text == "0") {
    return Duration::zero();
  }
  if (text.empty()) {
    return invalid();
  }
  std::string_view rest = text;
  double total_nanos = 0;
  while (!rest.empty()) {
    double value = 0;
    int64_t nanos_per_unit = 0;
    if (!ConsumeNumber(rest, value) || !ConsumeUnit(rest, nanos_per_unit)) {
      return invalid();
    }
    total_nanos += value * static_cast<double>(nanos_per_unit);
  }
  if (total_nanos > 9.2e18) {
    return absl::InvalidArgumentError(Concat("duration \"", text, "\" is too large"));
  }
  return Duration(static_cast<int64_t>(std::llround(total_nanos)));
}

absl::StatusOr<uint64_t> ParseSize(std::string_view text) {
  constexpr std::pair<std::string_view, uint64_t> kSuffixes[] = {
      {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}};
  uint64_t multiplier = 1;
  std::string_view digits = text;
  for (const auto& [suffix, factor] : kSuffixes) {
    if (digits.ends_with(suffix)) {
      digits.remove_suffix(suffix.size());
      multiplier = factor;
      break;
    }
  }
  if (digits.empty() || digits.size() > 12 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        Concat("invalid size \"", text, "\": use bytes, or a number with KiB, MiB or GiB"));
  }
  return std::stoull(std::string(digits)) * multiplier;
}

std::string FormatDuration(Duration duration) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  int64_t ms = duration_cast<milliseconds>(duration).count();
  if (ms < 1000) {
    return Concat(ms, "ms");
  }
  if (ms < 60000) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1fs", static_cast<double>(ms) / 1000.0);
    return buf;
  }
  int64_t seconds = ms / 1000;
  if (seconds < 3600) {
    return Concat(seconds / 60, "m", seconds % 60, "s");
  }
  return Concat(seconds / 3600, "h", (seconds % 3600) / 60, "m");
}

}  // namespace reattest
