// The local source's identities at one moment: the entries, one X.509-SVID
// per entry, and the trust bundle. A snapshot is immutable once built and is
// shared as shared_ptr<const>: a worker thread builds it, the event loop
// swaps it in and reads it without locks.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/duration.h"
#include "common/selector.h"
#include "identity/entry.h"
#include "identity/local/local_ca.h"
#include "identity/trust_bundle.h"
#include "identity/x509_svid.h"

namespace reattest::identity {

class JwtIssuer;

struct IdentitySnapshot {
  // A bare name: `example.org`.
  std::string trust_domain;
  // In file order.
  std::vector<Entry> entries;
  // svids[i] is entries[i]'s. Entries with the same SPIFFE ID, DNS names,
  // hint and TTL may share one.
  std::vector<std::shared_ptr<const X509Svid>> svids;
  std::string bundle_der;
  // The TTL of entries without `x509_ttl`, kept to tell whether a later
  // build may reuse their SVIDs.
  Duration default_x509_ttl{};
  // The earliest rotate_at of `svids`; time_point::max() when there are none.
  std::chrono::system_clock::time_point next_rotation;
  // The JWT authority and the bundles of other trust domains; attached by
  // WithTrust() (identity/trust.h). The JWT authority may be null.
  std::shared_ptr<const JwtIssuer> jwt;
  FederatedBundles federated;
};

// Builds the snapshot for `entries`, minting an SVID per entry. An SVID of
// `previous` (may be null) is reused for an entry whose spiffe_id, dns_names,
// hint and effective TTL are unchanged, if the CA is the same and its
// rotate_at is after `now`: re-attestation and edits of other entries never
// re-mint. Blocks on key generation: call it on a worker thread. Fails with
// the first SVID that cannot be minted; the caller then keeps `previous`.
absl::StatusOr<std::shared_ptr<const IdentitySnapshot>> BuildSnapshot(
    const LocalCa& ca, std::vector<Entry> entries, const IdentitySnapshot* previous,
    Duration default_ttl, std::chrono::system_clock::time_point now);

// Indexes into entries/svids of every entry whose selectors are all in
// `selectors`, in file order, so the first is the workload's default
// identity. An entry whose spiffe_id an earlier match already has is skipped:
// the first wins.
std::vector<size_t> MatchEntries(const IdentitySnapshot& snapshot, const SelectorSet& selectors);

}  // namespace reattest::identity
