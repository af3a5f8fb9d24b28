#include "streams/api_server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_posix.h>

namespace reattest::streams {

ApiServer::ApiServer(supervisor::EventLoop& loop, supervisor::Supervisor& supervisor,
                     metrics::Metrics& metrics, const supervisor::SdsConfig& sds)
    : workload_api_(loop, supervisor, metrics, connections_),
      sds_(loop, supervisor, metrics, connections_, sds) {}

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Start(supervisor::EventLoop& loop,
                                                            supervisor::Supervisor& supervisor,
                                                            metrics::Metrics& metrics,
                                                            const supervisor::SdsConfig& sds) {
  std::unique_ptr<ApiServer> api(new ApiServer(loop, supervisor, metrics, sds));
  // grpc.health.v1.Health on the same socket (SPEC section 4).
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.RegisterService(&api->workload_api_);
  builder.RegisterService(&api->sds_);
  api->server_ = builder.BuildAndStart();
  if (api->server_ == nullptr) {
    return absl::InternalError("gRPC server failed to start");
  }
  return api;
}

std::optional<supervisor::ConnectionInfo> ApiServer::Adopt(int fd,
                                                           supervisor::ConnectionInfo info) {
  // Recorded before gRPC sees the descriptor, so the first call finds it.
  std::optional<supervisor::ConnectionInfo> displaced = connections_.Add(fd, std::move(info));
  grpc::AddInsecureChannelFromFd(server_.get(), fd);
  return displaced;
}

void ApiServer::Shutdown(Duration grace) {
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::duration_cast<std::chrono::system_clock::duration>(grace));
}

}  // namespace reattest::streams
