// Process start times for tests that describe processes by hand.
#pragma once

#include <unistd.h>

#include <cstdint>

#include "common/process.h"

namespace reattest::testing {

// Clock ticks since boot now: the start time (field 22 of /proc/PID/stat) of
// a process started this instant, as young as a process can be.
inline uint64_t NowTicks() {
  return static_cast<uint64_t>(SecondsSinceBoot() * sysconf(_SC_CLK_TCK));
}

}  // namespace reattest::testing
