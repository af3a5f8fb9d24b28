// Many FetchX509SVID streams from one process, on the gRPC callback API so
// that ten thousand streams need a handful of threads. Each stream records
// when each of its messages arrived.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "workload.grpc.pb.h"

namespace reattest::bench {

using Clock = std::chrono::steady_clock;

// A channel with a connection of its own (channels otherwise share one).
std::shared_ptr<grpc::Channel> UnixChannel(const std::string& socket_path);

class StreamFleet {
 public:
  StreamFleet();
  ~StreamFleet();
  StreamFleet(const StreamFleet&) = delete;
  StreamFleet& operator=(const StreamFleet&) = delete;

  // Opens `count` streams, `per_connection` on each new connection.
  void Open(const std::string& socket_path, int count, int per_connection);
  // Waits until every stream received at least `messages` messages; false
  // on timeout.
  bool WaitAll(int messages, std::chrono::milliseconds timeout);
  // When each stream received its `index`-th message (1-based), for the
  // streams that did.
  std::vector<Clock::time_point> ArrivalsOf(int index);
  // The last message received on stream `stream`.
  X509SVIDResponse Last(size_t stream);
  int ended();

 private:
  class Watcher;
  void CountArrival(size_t index);

  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<SpiffeWorkloadAPI::Stub>> stubs_;
  std::vector<std::unique_ptr<Watcher>> watchers_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int ended_ = 0;  // guarded by mutex_
  // reached_[i]: streams that received at least i + 1 messages; guarded by mutex_.
  std::vector<size_t> reached_;
};

}  // namespace reattest::bench
