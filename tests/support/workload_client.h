// A Workload API client for end-to-end tests: opens a FetchX509SVID stream
// over the agent's Unix socket and queues every message it receives, so a
// test can wait for the next one with a deadline.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "workload.grpc.pb.h"

namespace reattest::testing {

// A channel with its own connection: channels in one process otherwise share
// connections to the same target, which would hide per-connection limits.
std::shared_ptr<grpc::Channel> UnixChannel(const std::string& socket_path);

class X509Stream {
 public:
  // Opens the stream on a new connection; `with_header` false omits the
  // security header.
  explicit X509Stream(const std::string& socket_path, bool with_header = true);
  // Opens the stream on `channel`'s connection.
  explicit X509Stream(std::shared_ptr<grpc::Channel> channel, bool with_header = true);
  ~X509Stream();

  // The next message, or nullopt if none arrives within `timeout` or the
  // stream ended.
  std::optional<X509SVIDResponse> Next(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits for the stream to end and returns its status.
  grpc::Status Finish(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool ended();

 private:
  void ReadAll();

  std::unique_ptr<SpiffeWorkloadAPI::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<X509SVIDResponse>> reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<X509SVIDResponse> messages_;  // guarded by mutex_
  std::optional<grpc::Status> status_;     // guarded by mutex_
  std::thread reader_thread_;
};

}  // namespace reattest::testing
