// What of a snapshot's trust material one workload may see: its own trust
// domain's bundles always, another trust domain's only when one of its
// matched entries federates with it (SPEC sections 4 and 5).
#pragma once

#include <memory>
#include <vector>

#include "identity/jwt/jwt_svid.h"
#include "identity/local/jwt_issuer.h"
#include "identity/snapshot.h"
#include "identity/trust_bundle.h"

namespace reattest::identity {

// A copy of `base` with the JWT authority and federated bundles replaced.
// Shares the SVIDs, so nothing is re-minted.
std::shared_ptr<const IdentitySnapshot> WithTrust(const IdentitySnapshot& base,
                                                  std::shared_ptr<const JwtIssuer> jwt,
                                                  FederatedBundles federated);

// Bundles of the trust domains that the `matched` entries federate with and
// that are configured, ordered by trust domain ID.
std::vector<const TrustBundle*> FederatedFor(const IdentitySnapshot& snapshot,
                                             const std::vector<size_t>& matched);

// The JWT authorities a workload's validations trust: its own trust
// domain's, plus those of FederatedFor().
JwtTrust JwtTrustFor(const IdentitySnapshot& snapshot, const std::vector<size_t>& matched);

}  // namespace reattest::identity
