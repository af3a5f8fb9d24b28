#include "cli/x509_client.h"

#include "cli/workload_call.h"

namespace reattest::cli {

X509Client::X509Client(const std::string& socket_path, std::optional<Duration> deadline)
    : stub_(WorkloadStub(socket_path)) {
  PrepareContext(context_, deadline);
  reader_ = stub_->FetchX509SVID(&context_, X509SVIDRequest());
}

std::string X509Client::Finish() { return DescribeStatus(reader_->Finish()); }

}  // namespace reattest::cli
