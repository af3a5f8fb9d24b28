// The SPIFFE Workload API service (SPEC section 4) on the callback API.
// Handlers run on gRPC threads: they check the security header, find the
// caller's connection, and hand the call to the supervisor's loop.
#pragma once

#include "metrics/metrics.h"
#include "streams/bundle_render.h"
#include "streams/connection_registry.h"
#include "streams/held_call.h"
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
        x509_svids_(std::make_shared<RenderCache<X509SVIDResponse>>(&RenderX509Svids)),
        x509_bundles_(std::make_shared<RenderCache<X509BundlesResponse>>(&RenderX509Bundles)),
        jwt_bundles_(std::make_shared<RenderCache<JWTBundlesResponse>>(&RenderJwtBundles)) {}

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
  // A push stream of `api` rendered through `cache`, or a stream already refused.
  template <typename Response>
  grpc::ServerWriteReactor<Response>* OpenPush(grpc::CallbackServerContext* context,
                                               supervisor::Api api,
                                               std::shared_ptr<RenderCache<Response>> cache);
  // A unary call held until the caller's identity answers it, or refused at
  // once (header missing, unknown caller, `request_status` not OK).
  grpc::ServerUnaryReactor* Hold(grpc::CallbackServerContext* context,
                                 const grpc::Status& request_status, HeldCall::Options options);

  supervisor::EventLoop& loop_;
  supervisor::Supervisor& supervisor_;
  metrics::Metrics& metrics_;
  const ConnectionRegistry& connections_;
  // Each shared by every stream of its method; used on the loop thread only.
  std::shared_ptr<RenderCache<X509SVIDResponse>> x509_svids_;
  std::shared_ptr<RenderCache<X509BundlesResponse>> x509_bundles_;
  std::shared_ptr<RenderCache<JWTBundlesResponse>> jwt_bundles_;
};

}  // namespace reattest::streams
