// Opening a Workload API X.509 stream from the command line, shared by
// `api fetch x509` and `api watch`.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "common/duration.h"
#include "workload.grpc.pb.h"

namespace reattest::cli {

class X509Client {
 public:
  // `deadline` bounds the whole call; nullopt waits for as long as it takes.
  X509Client(const std::string& socket_path, std::optional<Duration> deadline);

  // Blocks for the next message; false when the stream ended.
  bool Next(X509SVIDResponse& response) { return reader_->Read(&response); }
  void Cancel() { context_.TryCancel(); }
  // After Next() returned false: why the stream ended, as `CODE: message`.
  std::string Finish();

 private:
  std::unique_ptr<SpiffeWorkloadAPI::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<X509SVIDResponse>> reader_;
};

}  // namespace reattest::cli
