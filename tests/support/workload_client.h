// Workload API clients for end-to-end tests: a stream (FetchX509SVID and the
// two bundle streams) that queues every message it receives, so a test can
// wait for the next one with a deadline, and the unary JWT calls.
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

// `Response` picks the call: X509SVIDResponse, X509BundlesResponse or
// JWTBundlesResponse.
template <typename Response>
class WorkloadStream {
 public:
  // Opens the stream on a new connection; `with_header` false omits the
  // security header.
  explicit WorkloadStream(const std::string& socket_path, bool with_header = true);
  // Opens the stream on `channel`'s connection.
  explicit WorkloadStream(std::shared_ptr<grpc::Channel> channel, bool with_header = true);
  ~WorkloadStream();

  // The next message, or nullopt if none arrives within `timeout` or the
  // stream ended.
  std::optional<Response> Next(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits for the stream to end and returns its status.
  grpc::Status Finish(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool ended();

 private:
  void ReadAll();

  std::unique_ptr<SpiffeWorkloadAPI::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<Response>> reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Response> messages_;       // guarded by mutex_
  std::optional<grpc::Status> status_;  // guarded by mutex_
  std::thread reader_thread_;
};

using X509Stream = WorkloadStream<X509SVIDResponse>;
using X509BundlesStream = WorkloadStream<X509BundlesResponse>;
using JwtBundlesStream = WorkloadStream<JWTBundlesResponse>;

// The unary calls on `channel`, with a 10 s deadline.
grpc::Status FetchJwtSvid(std::shared_ptr<grpc::Channel> channel, const JWTSVIDRequest& request,
                          JWTSVIDResponse& response, bool with_header = true);
grpc::Status ValidateJwtSvid(std::shared_ptr<grpc::Channel> channel,
                             const ValidateJWTSVIDRequest& request,
                             ValidateJWTSVIDResponse& response, bool with_header = true);

}  // namespace reattest::testing
