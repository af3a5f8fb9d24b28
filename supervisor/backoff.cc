#include "supervisor/backoff.h"

#include <algorithm>
#include <cmath>

namespace reattest::supervisor {
namespace {

Duration Scale(Duration base, double factor) {
  return Duration(static_cast<int64_t>(static_cast<double>(base.count()) * factor));
}

// Maps u in [0, 1) onto [1 - spread, 1 + spread].
double Spread(double spread, double uniform01) { return 1.0 - spread + 2.0 * spread * uniform01; }

}  // namespace

Duration RetryDelay(const ReattestationConfig& config, int n, double uniform01) {
  // Computed in doubles and capped before converting, so a large n cannot overflow.
  double uncapped = static_cast<double>(config.initial_backoff.count()) *
                    std::pow(config.multiplier, static_cast<double>(n));
  double capped = std::min(uncapped, static_cast<double>(config.max_backoff.count()));
  return Scale(Duration(static_cast<int64_t>(capped)), Spread(config.jitter, uniform01));
}

bool RetryAllowed(const ReattestationConfig& config, int n) {
  return config.max_attempts == 0 || n < config.max_attempts;
}

Duration PeriodicDelay(const ReattestationConfig& config, double uniform01) {
  return Scale(config.periodic_interval, Spread(0.1, uniform01));
}

}  // namespace reattest::supervisor
