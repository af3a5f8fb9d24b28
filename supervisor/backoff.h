// The retry schedule of SPEC section 3, as pure functions of the settings
// and a uniform random number, so tests can pin every delay.
#pragma once

#include "common/duration.h"
#include "supervisor/config.h"

namespace reattest::supervisor {

// Delay before the next attempt after the n-th failed attestation since the
// workload was last complete (n = 0, 1, ...):
// min(max_backoff, initial_backoff * multiplier^n) * U[1 - jitter, 1 + jitter],
// where `uniform01` in [0, 1) picks the point in the jitter range.
Duration RetryDelay(const ReattestationConfig& config, int n, double uniform01);

// Whether the n-th failure (n = 0 for the first) is followed by a retry, or
// the workload falls back to the periodic interval: max_attempts counts the
// retries after the first failure, and 0 means unlimited.
bool RetryAllowed(const ReattestationConfig& config, int n);

// Delay before the next periodic re-attestation: periodic_interval +-10%.
// Zero means periodic re-attestation is off.
Duration PeriodicDelay(const ReattestationConfig& config, double uniform01);

}  // namespace reattest::supervisor
