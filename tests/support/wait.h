// Waiting for a condition with a deadline, never a bare sleep: the check runs
// every few milliseconds and the wait ends as soon as it holds.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace reattest::testing {

inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace reattest::testing
