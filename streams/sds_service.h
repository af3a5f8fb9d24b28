// Envoy SDS v3 (`envoy.service.secret.v3.SecretDiscoveryService`, SPEC
// section 4) on the Workload API socket. Handlers run on gRPC threads: they
// find the caller's connection and hand the call to the supervisor's loop.
// SDS calls carry no security header (Envoy does not send one).
#pragma once

#include "envoy/service/secret/v3/sds.grpc.pb.h"
#include "streams/connection_registry.h"
#include "streams/sds_stream.h"

namespace reattest::streams {

class SdsService final
    : public envoy::service::secret::v3::SecretDiscoveryService::CallbackService {
 public:
  SdsService(supervisor::EventLoop& loop, supervisor::Supervisor& supervisor,
             metrics::Metrics& metrics, const ConnectionRegistry& connections,
             supervisor::SdsConfig config)
      : config_(std::move(config)),
        context_{loop, supervisor, metrics, config_, secrets_},
        connections_(connections) {}

  grpc::ServerBidiReactor<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse>*
  DeltaSecrets(grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<discovery::DiscoveryRequest, discovery::DiscoveryResponse>* StreamSecrets(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* FetchSecrets(grpc::CallbackServerContext* context,
                                         const discovery::DiscoveryRequest* request,
                                         discovery::DiscoveryResponse* response) override;

 private:
  template <typename Stream>
  auto* OpenStream(grpc::CallbackServerContext* context);

  const supervisor::SdsConfig config_;
  SdsSecretCache secrets_;
  const SdsContext context_;
  const ConnectionRegistry& connections_;
};

}  // namespace reattest::streams
