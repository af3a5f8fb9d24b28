// What every CLI call of the Workload API shares: a stub on the socket, the
// security header and deadline on the call, and how a failure is printed.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "common/duration.h"
#include "workload.grpc.pb.h"

namespace reattest::cli {

std::unique_ptr<SpiffeWorkloadAPI::Stub> WorkloadStub(const std::string& socket_path);

// Adds the security header and, unless nullopt, a deadline `deadline` from now.
void PrepareContext(grpc::ClientContext& context, std::optional<Duration> deadline);

// `CODE: message`, for error lines.
std::string DescribeStatus(const grpc::Status& status);

}  // namespace reattest::cli
