#include "streams/bundle_render.h"

#include "common/strings.h"
#include "identity/local/jwt_issuer.h"
#include "identity/trust.h"

namespace reattest::streams {
namespace {

std::string OwnTrustDomainId(const identity::IdentitySnapshot& snapshot) {
  return Concat("spiffe://", snapshot.trust_domain);
}

}  // namespace

void RenderFederatedX509(const supervisor::WorkloadIdentity& identity,
                         google::protobuf::Map<std::string, std::string>& bundles) {
  if (!identity.snapshot) {
    return;
  }
  for (const identity::TrustBundle* bundle :
       identity::FederatedFor(*identity.snapshot, identity.matched)) {
    bundles[bundle->trust_domain_id] = bundle->x509_der;
  }
}

void RenderX509Bundles(const supervisor::WorkloadIdentity& identity,
                       X509BundlesResponse& response) {
  if (!identity.snapshot) {
    return;
  }
  auto& bundles = *response.mutable_bundles();
  bundles[OwnTrustDomainId(*identity.snapshot)] = identity.snapshot->bundle_der;
  RenderFederatedX509(identity, bundles);
}

void RenderJwtBundles(const supervisor::WorkloadIdentity& identity, JWTBundlesResponse& response) {
  if (!identity.snapshot) {
    return;
  }
  const identity::IdentitySnapshot& snapshot = *identity.snapshot;
  auto& bundles = *response.mutable_bundles();
  if (snapshot.jwt) {
    bundles[OwnTrustDomainId(snapshot)] = snapshot.jwt->keys().jwks();
  }
  for (const identity::TrustBundle* bundle : identity::FederatedFor(snapshot, identity.matched)) {
    bundles[bundle->trust_domain_id] = bundle->jwks;
  }
}

}  // namespace reattest::streams
