// Renders the trust bundles a workload may see (SPEC section 4): its own
// trust domain's, plus those its matched entries federate with, keyed by
// trust domain ID (`spiffe://example.org`).
#pragma once

#include <google/protobuf/map.h>

#include <string>

#include "supervisor/stream_sink.h"
#include "workload.pb.h"

namespace reattest::streams {

// DER CA certificates of every bundle.
void RenderX509Bundles(const supervisor::WorkloadIdentity& identity, X509BundlesResponse& response);
// The JWKS document of every bundle.
void RenderJwtBundles(const supervisor::WorkloadIdentity& identity, JWTBundlesResponse& response);
// DER CA certificates of the federated bundles only, as X509SVIDResponse
// carries them.
void RenderFederatedX509(const supervisor::WorkloadIdentity& identity,
                         google::protobuf::Map<std::string, std::string>& bundles);

}  // namespace reattest::streams
