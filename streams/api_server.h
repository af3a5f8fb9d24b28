// The gRPC server behind the Unix socket. It listens on no port of its own:
// every connection is accepted by the Listener and handed over by descriptor
// (NOTES: that is the only way a gRPC 1.51 server learns a caller's PID).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/status/statusor.h"
#include "streams/connection_registry.h"
#include "streams/sds_service.h"
#include "streams/workload_api.h"
#include "supervisor/connection.h"

namespace reattest::streams {

class ApiServer {
 public:
  static absl::StatusOr<std::unique_ptr<ApiServer>> Start(supervisor::EventLoop& loop,
                                                          supervisor::Supervisor& supervisor,
                                                          metrics::Metrics& metrics,
                                                          const supervisor::SdsConfig& sds);

  // Loop thread: the Listener accepted a caller. Takes over `fd`. Returns
  // the connection that last had this descriptor number, if it was not
  // swept yet: it has closed.
  std::optional<supervisor::ConnectionInfo> Adopt(int fd, supervisor::ConnectionInfo info);
  // Connections closed since the last sweep.
  std::vector<supervisor::ConnectionInfo> SweepClosed() { return connections_.SweepClosed(); }
  // Any thread but the loop's (it waits for calls whose completions the loop
  // runs). Calls still open after `grace` are cancelled.
  void Shutdown(Duration grace);

 private:
  ApiServer(supervisor::EventLoop& loop, supervisor::Supervisor& supervisor,
            metrics::Metrics& metrics, const supervisor::SdsConfig& sds);

  ConnectionRegistry connections_;
  WorkloadApiService workload_api_;
  SdsService sds_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace reattest::streams
