#include "identity/snapshot.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/strings.h"

namespace reattest::identity {
namespace {

using Clock = std::chrono::system_clock;

// Finds the previous snapshot's SVID for an entry; indexed by SPIFFE ID so a
// large entries file does not cost a scan per entry.
class ReusableSvids {
 public:
  ReusableSvids(const IdentitySnapshot* previous, const LocalCa& ca, Clock::time_point now)
      : now_(now) {
    // SVIDs of another CA would not chain to the new bundle.
    if (previous != nullptr && previous->bundle_der == ca.bundle_der()) {
      previous_ = previous;
      for (size_t i = 0; i < previous->entries.size(); ++i) {
        by_id_[previous->entries[i].spiffe_id.str()].push_back(i);
      }
    }
  }

  // Null when the entry needs a new SVID.
  std::shared_ptr<const X509Svid> Find(const Entry& entry, Duration ttl) const {
    auto ids = by_id_.find(entry.spiffe_id.str());
    if (ids == by_id_.end()) {
      return nullptr;
    }
    for (size_t i : ids->second) {
      const Entry& old = previous_->entries[i];
      Duration old_ttl = old.x509_ttl.value_or(previous_->default_x509_ttl);
      if (old.dns_names == entry.dns_names && old.hint == entry.hint && old_ttl == ttl &&
          previous_->svids[i]->rotate_at > now_) {
        return previous_->svids[i];
      }
    }
    return nullptr;
  }

 private:
  const IdentitySnapshot* previous_ = nullptr;
  Clock::time_point now_;
  std::unordered_map<std::string, std::vector<size_t>> by_id_;
};

absl::StatusOr<std::shared_ptr<const X509Svid>> Mint(const LocalCa& ca, const Entry& entry,
                                                     Duration ttl, Clock::time_point now) {
  absl::StatusOr<X509Svid> svid = ca.MintX509Svid(entry, ttl, now);
  if (!svid.ok()) {
    return absl::Status(svid.status().code(),
                        Concat("mint the SVID of ", entry.spiffe_id.str(), " (line ", entry.line,
                               "): ", svid.status().message()));
  }
  return std::make_shared<const X509Svid>(*std::move(svid));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const IdentitySnapshot>> BuildSnapshot(
    const LocalCa& ca, std::vector<Entry> entries, const IdentitySnapshot* previous,
    Duration default_ttl, Clock::time_point now) {
  auto snapshot = std::make_shared<IdentitySnapshot>();
  snapshot->trust_domain = ca.trust_domain();
  snapshot->bundle_der = ca.bundle_der();
  snapshot->default_x509_ttl = default_ttl;
  snapshot->next_rotation = Clock::time_point::max();

  ReusableSvids reusable(previous, ca, now);
  for (const Entry& entry : entries) {
    Duration ttl = entry.x509_ttl.value_or(default_ttl);
    std::shared_ptr<const X509Svid> svid = reusable.Find(entry, ttl);
    if (svid == nullptr) {
      absl::StatusOr<std::shared_ptr<const X509Svid>> minted = Mint(ca, entry, ttl, now);
      if (!minted.ok()) {
        return minted.status();
      }
      svid = *std::move(minted);
    }
    snapshot->next_rotation = std::min(snapshot->next_rotation, svid->rotate_at);
    snapshot->svids.push_back(std::move(svid));
  }
  snapshot->entries = std::move(entries);
  return std::shared_ptr<const IdentitySnapshot>(std::move(snapshot));
}

std::vector<size_t> MatchEntries(const IdentitySnapshot& snapshot, const SelectorSet& selectors) {
  std::vector<size_t> matched;
  std::set<std::string_view> matched_ids;
  for (size_t i = 0; i < snapshot.entries.size(); ++i) {
    const Entry& entry = snapshot.entries[i];
    if (MatchesAll(entry.selectors, selectors) &&
        matched_ids.insert(entry.spiffe_id.str()).second) {
      matched.push_back(i);
    }
  }
  return matched;
}

}  // namespace reattest::identity
