// A deadline on a whole cpp-httplib request. cpp-httplib bounds each connect,
// read and write by its timeouts, but not the request as a whole: a daemon
// that trickles its answer could hold a worker forever. Shared by the
// clients of the docker and k8s attestors.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "common/duration.h"

namespace reattest::attestors {

// Stops `client` once `timeout` has passed since construction, unless
// disarmed first. One watchdog per request; it owns a thread while armed.
class RequestDeadline {
 public:
  RequestDeadline(httplib::Client& client, Duration timeout);
  ~RequestDeadline() { Disarm(); }
  RequestDeadline(const RequestDeadline&) = delete;
  RequestDeadline& operator=(const RequestDeadline&) = delete;

  // Ends the watch; true when the deadline passed before, whether or not the
  // watchdog got to stop the client: cpp-httplib's own read timeout, when it
  // equals the deadline, may end the request first with a plain read error.
  bool Disarm();

 private:
  void Watch(std::stop_token stop, httplib::Client& client, Duration timeout);

  const std::chrono::steady_clock::time_point deadline_;
  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::atomic<bool> expired_ = false;
  // Last member: the thread starts once everything it uses is constructed.
  std::jthread thread_;
};

}  // namespace reattest::attestors
