#include "attestors/http_deadline.h"

#include <chrono>

namespace reattest::attestors {
namespace {

// After the deadline the watchdog stops the client again at this period, in
// case the request had not yet opened its socket the first time.
constexpr auto kStopRetryPeriod = std::chrono::milliseconds(10);

}  // namespace

RequestDeadline::RequestDeadline(httplib::Client& client, Duration timeout)
    : deadline_(std::chrono::steady_clock::now() + timeout),
      thread_([this, &client, timeout](std::stop_token stop) { Watch(stop, client, timeout); }) {}

bool RequestDeadline::Disarm() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  return expired_ || std::chrono::steady_clock::now() >= deadline_;
}

void RequestDeadline::Watch(std::stop_token stop, httplib::Client& client, Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  Duration wait = timeout;
  // wait_for returns early (and the loop ends) only when Disarm() asks.
  while (!changed_.wait_for(lock, stop, wait, [] { return false; }) && !stop.stop_requested()) {
    expired_ = true;
    client.stop();
    wait = kStopRetryPeriod;
  }
}

}  // namespace reattest::attestors
