// The retry schedule of SPEC section 3 with pinned random draws.
#include "supervisor/backoff.h"

#include <catch2/catch.hpp>

namespace reattest::supervisor {
namespace {

using std::chrono::milliseconds;

ReattestationConfig Schedule() {
  ReattestationConfig config;
  config.initial_backoff = milliseconds(500);
  config.max_backoff = milliseconds(30000);
  config.multiplier = 2.0;
  config.jitter = 0.2;
  return config;
}

TEST_CASE("Retry delays double from initial_backoff at the middle of the jitter range",
          "[backoff]") {
  ReattestationConfig config = Schedule();
  // A draw of 0.5 is the middle of [1 - jitter, 1 + jitter]: no jitter.
  CHECK(RetryDelay(config, 0, 0.5) == milliseconds(500));
  CHECK(RetryDelay(config, 1, 0.5) == milliseconds(1000));
  CHECK(RetryDelay(config, 2, 0.5) == milliseconds(2000));
  CHECK(RetryDelay(config, 5, 0.5) == milliseconds(16000));
}

TEST_CASE("Retry delays are capped at max_backoff before jitter", "[backoff]") {
  ReattestationConfig config = Schedule();
  CHECK(RetryDelay(config, 6, 0.5) == milliseconds(30000));
  CHECK(RetryDelay(config, 60, 0.5) == milliseconds(30000));
  // The jitter may take a capped delay past max_backoff.
  CHECK(RetryDelay(config, 60, 1.0) == milliseconds(36000));
}

TEST_CASE("Jitter spreads a delay over [1 - jitter, 1 + jitter]", "[backoff]") {
  ReattestationConfig config = Schedule();
  CHECK(RetryDelay(config, 0, 0.0) == milliseconds(400));
  CHECK(RetryDelay(config, 0, 0.25) == milliseconds(450));
  CHECK(RetryDelay(config, 0, 1.0) == milliseconds(600));
  for (double draw = 0; draw < 1.0; draw += 0.01) {
    Duration delay = RetryDelay(config, 3, draw);
    CHECK(delay >= milliseconds(3200));
    CHECK(delay <= milliseconds(4800));
  }
  config.jitter = 0;
  CHECK(RetryDelay(config, 0, 0.0) == milliseconds(500));
}

TEST_CASE("max_attempts counts retries after the first failure; 0 means unlimited", "[backoff]") {
  ReattestationConfig config = Schedule();
  config.max_attempts = 0;
  CHECK(RetryAllowed(config, 0));
  CHECK(RetryAllowed(config, 1000));
  config.max_attempts = 2;
  CHECK(RetryAllowed(config, 0));        // after the first failure: retry 1
  CHECK(RetryAllowed(config, 1));        // after retry 1 failed: retry 2
  CHECK_FALSE(RetryAllowed(config, 2));  // retry 2 failed: hand over to periodic
}

TEST_CASE("Periodic re-attestation is spread by +-10%, and off at zero", "[backoff]") {
  ReattestationConfig config = Schedule();
  config.periodic_interval = std::chrono::minutes(5);
  CHECK(PeriodicDelay(config, 0.0) == std::chrono::seconds(270));
  CHECK(PeriodicDelay(config, 0.5) == std::chrono::seconds(300));
  CHECK(PeriodicDelay(config, 1.0) == std::chrono::seconds(330));
  config.periodic_interval = Duration::zero();
  CHECK(PeriodicDelay(config, 0.7) == Duration::zero());
}

}  // namespace
}  // namespace reattest::supervisor
