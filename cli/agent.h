// `reattest run`: assembles the agent from its parts and serves until
// SIGTERM or SIGINT.
#pragma once

#include "supervisor/config.h"

namespace reattest::cli {

// Returns the process exit status. Start-up errors are logged and give 1.
int RunAgent(const supervisor::Config& config);

}  // namespace reattest::cli
