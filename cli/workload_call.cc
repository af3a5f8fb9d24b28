#include "cli/workload_call.h"

#include "absl/status/status.h"
#include "common/strings.h"

namespace reattest::cli {

std::unique_ptr<SpiffeWorkloadAPI::Stub> WorkloadStub(const std::string& socket_path) {
  return SpiffeWorkloadAPI::NewStub(
      grpc::CreateChannel(Concat("unix:", socket_path), grpc::InsecureChannelCredentials()));
}

void PrepareContext(grpc::ClientContext& context, std::optional<Duration> deadline) {
  context.AddMetadata("workload.spiffe.io", "true");
  if (deadline) {
    context.set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::duration_cast<std::chrono::system_clock::duration>(*deadline));
  }
}

std::string DescribeStatus(const grpc::Status& status) {
  return Concat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())), ": ",
                status.error_message());
}

}  // namespace reattest::cli
