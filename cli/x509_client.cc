#include "cli/x509_client.h"

#include "absl/status/status.h"
#include "common/strings.h"

namespace reattest::cli {

X509Client::X509Client(const std::string& socket_path, std::optional<Duration> deadline)
    : stub_(SpiffeWorkloadAPI::NewStub(
          grpc::CreateChannel(Concat("unix:", socket_path), grpc::InsecureChannelCredentials()))) {
  context_.AddMetadata("workload.spiffe.io", "true");
  if (deadline) {
    context_.set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::duration_cast<std::chrono::system_clock::duration>(*deadline));
  }
  reader_ = stub_->FetchX509SVID(&context_, X509SVIDRequest());
}

std::string X509Client::Finish() {
  grpc::Status status = reader_->Finish();
  return Concat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())), ": ",
                status.error_message());
}

}  // namespace reattest::cli
