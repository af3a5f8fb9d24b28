// `reattest healthcheck` and `reattest debug workloads`: clients of the
// agent's health endpoint (`health.listen`).
#pragma once

#include <string>

namespace reattest::cli {

// The health endpoint's default address (SPEC section 6).
inline constexpr char kDefaultHealthUrl[] = "http://127.0.0.1:9989";

// Exit 0 when /healthz and /readyz both answer 200, else 1 with the reason
// on stderr: for liveness and readiness probes.
int Healthcheck(const std::string& url);

// Prints the agent's view of every workload as a table.
int DebugWorkloads(const std::string& url);

}  // namespace reattest::cli
