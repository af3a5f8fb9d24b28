// The SPIFFE Workload API service (SPEC section 4) on the callback API.
// Handlers run on gRPC threads: they check the security header, find the
// caller's connection, and hand the call to the supervisor's loop.
#pragma once

#include "metrics/metrics.h"
#include "streams/connection_registry.h"
#include "streams/render_cache.h"
#include "streams/x509_render.h"
#include "supervisor/event_loop.h"
#include "supervisor/supervisor.h"
#include "workload.grpc.pb.h"

namespace reattest::streams {

class WorkloadApiService final : public SpiffeWorkloadAPI::CallbackService {
 public:
  WorkloadApiService(supervisor::EventLoop& loop, supervisor::Supervisor& supervisor,
                     metrics::Metrics& metrics, const ConnectionRegistry& connections)
      : loop_(loop),
        supervisor_(supervisor),
        metrics_(metrics),
        connections_(connections),
        x509_svids_(std::make_shared<RenderCache<X509SVIDResponse>>(&RenderX509Svids)) {}

  grpc::ServerWriteReactor<X509SVIDResponse>* FetchX509SVID(
      grpc::CallbackServerContext* context, const X509SVIDRequest* request) override;
  grpc::ServerWriteReactor<X509BundlesResponse>* FetchX509Bundles(
      grpc::CallbackServerContext* context, const X509BundlesRequest* request) override;
  grpc::ServerUnaryReactor* FetchJWTSVID(grpc::CallbackServerContext* context,
                                         const JWTSVIDRequest* request,
                                         JWTSVIDResponse* response) override;
  grpc::ServerWriteReactor<JWTBundlesResponse>* FetchJWTBundles(
      grpc::CallbackServerContext* context, const JWTBundlesRequest* request) override;
  grpc::ServerUnaryReactor* ValidateJWTSVID(grpc::CallbackServerContext* context,
                                            const ValidateJWTSVIDRequest* request,
                                            ValidateJWTSVIDResponse* response) override;

 private:
  // The caller's connection, or the status to refuse the call with.
  absl::StatusOr<supervisor::ConnectionInfo> Admit(grpc::CallbackServerContext* context) const;
  // Refuses a unary call: header missing, unknown caller, or not built yet.
  grpc::ServerUnaryReactor* RefuseUnary(grpc::CallbackServerContext* context);

  supervisor::EventLoop& loop_;
  supervisor::Supervisor& supervisor_;
  metrics::Metrics& metrics_;
  const ConnectionRegistry& connections_;
  // Shared by every FetchX509SVID stream; used on the loop thread only.
  std::shared_ptr<RenderCache<X509SVIDResponse>> x509_svids_;
};

}  // namespace reattest::streams
