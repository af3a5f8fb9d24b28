#include "streams/x509_render.h"

#include "streams/bundle_render.h"

namespace reattest::streams {

void RenderX509Svids(const supervisor::WorkloadIdentity& identity, X509SVIDResponse& response) {
  if (!identity.snapshot) {
    return;
  }
  const identity::IdentitySnapshot& snapshot = *identity.snapshot;
  for (size_t index : identity.matched) {
    const identity::X509Svid& svid = *snapshot.svids[index];
    X509SVID* out = response.add_svids();
    out->set_spiffe_id(svid.spiffe_id.str());
    out->set_x509_svid(svid.cert_chain_der);
    out->set_x509_svid_key(svid.private_key_der);
    out->set_bundle(snapshot.bundle_der);
    out->set_hint(svid.hint);
  }
  RenderFederatedX509(identity, *response.mutable_federated_bundles());
}

}  // namespace reattest::streams
