// A stand-in for the Docker Engine API on a Unix socket, for the recovery
// scenarios: answers `GET /containers/<id>/json` with a labelled container,
// or 503 while broken, and counts the inspects and when the last good one
// was answered.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace reattest::bench {

class FakeDocker {
 public:
  // Listens on `socket_path` (a stale file is replaced); starts broken.
  explicit FakeDocker(const std::string& socket_path);
  ~FakeDocker();

  void SetHealthy(bool healthy) { healthy_ = healthy; }
  long inspects() const { return inspects_; }
  // When the last successful inspect was answered (steady clock, ns).
  long long last_ok_ns() const { return last_ok_ns_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> healthy_{false};
  std::atomic<long> inspects_{0};
  std::atomic<long long> last_ok_ns_{0};
};

}  // namespace reattest::bench
