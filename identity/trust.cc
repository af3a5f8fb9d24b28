#include "identity/trust.h"

#include <set>

#include "common/spiffe_id.h"

namespace reattest::identity {

std::shared_ptr<const IdentitySnapshot> WithTrust(const IdentitySnapshot& base,
                                                  std::shared_ptr<const JwtIssuer> jwt,
                                                  FederatedBundles federated) {
  auto snapshot = std::make_shared<IdentitySnapshot>(base);
  snapshot->jwt = std::move(jwt);
  snapshot->federated = std::move(federated);
  return snapshot;
}

std::vector<const TrustBundle*> FederatedFor(const IdentitySnapshot& snapshot,
                                             const std::vector<size_t>& matched) {
  std::set<std::string> wanted;
  for (size_t index : matched) {
    const std::vector<std::string>& ids = snapshot.entries[index].federates_with;
    wanted.insert(ids.begin(), ids.end());
  }
  // The own trust domain's bundle is the CA's, whatever a file says.
  wanted.erase("spiffe://" + snapshot.trust_domain);
  std::vector<const TrustBundle*> bundles;
  for (const std::string& id : wanted) {
    auto found = snapshot.federated.find(id);
    if (found != snapshot.federated.end()) {
      bundles.push_back(found->second.get());
    }
  }
  return bundles;
}

JwtTrust JwtTrustFor(const IdentitySnapshot& snapshot, const std::vector<size_t>& matched) {
  JwtTrust trust;
  if (snapshot.jwt) {
    trust[snapshot.trust_domain] = snapshot.jwt->keys().published();
  }
  for (const TrustBundle* bundle : FederatedFor(snapshot, matched)) {
    absl::StatusOr<SpiffeId> id = SpiffeId::Parse(bundle->trust_domain_id);
    if (id.ok()) {
      trust[std::string(id->trust_domain())] = bundle->jwt_keys;
    }
  }
  return trust;
}

}  // namespace reattest::identity
