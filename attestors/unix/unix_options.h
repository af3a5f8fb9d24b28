// Settings of the unix attestor (`attestors.unix` in the config file).
#pragma once

#include <cstdint>

namespace reattest::attestors {

struct UnixOptions {
  // Adds unix:path and unix:sha256 of /proc/PID/exe.
  bool discover_workload_path = false;
  // Binaries larger than this get no unix:sha256 selector.
  uint64_t workload_size_limit = 128ULL << 20;
};

}  // namespace reattest::attestors
