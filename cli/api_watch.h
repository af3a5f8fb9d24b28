// `reattest api watch`: prints every X.509 update of the caller's stream as
// it arrives, to debug a workload that looks stuck.
#pragma once

#include <string>

namespace reattest::cli {

// Runs until the stream ends (exit 1, with the status) or the process is
// interrupted.
int WatchX509(const std::string& socket_path);

}  // namespace reattest::cli
