// Durations and sizes as written in config and entries files.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reattest {

using Duration = std::chrono::nanoseconds;

// Go syntax: a sequence of decimal numbers with units (`300ms`, `1.5s`,
// `1m30s`, `2h`; units ns, us, µs, ms, s, m, h), or a bare `0`. Negative
// durations are rejected: no setting of ours means anything below zero.
absl::StatusOr<Duration> ParseDuration(std::string_view text);

// Bytes with an optional `KiB`, `MiB` or `GiB` suffix: `4096`, `128MiB`.
absl::StatusOr<uint64_t> ParseSize(std::string_view text);

// `1.5s`, `250ms`, `2m0s`: for logs and messages.
std::string FormatDuration(Duration duration);

}  // namespace reattest
