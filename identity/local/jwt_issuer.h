// Mints the local source's JWT-SVIDs (SPEC section 5) and caches them: a
// workload asking again for the same identity and audiences gets the same
// token until it is half-way through its life, then a fresh one.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/duration.h"
#include "common/spiffe_id.h"
#include "identity/local/jwt_keys.h"

namespace reattest::identity {

// Thread-safe: the key set is immutable and the cache is behind a mutex.
// One issuer per key set, so a replaced signer takes its cache with it.
class JwtIssuer {
 public:
  JwtIssuer(std::shared_ptr<const JwtKeySet> keys, Duration token_ttl)
      : keys_(std::move(keys)), token_ttl_(token_ttl) {}

  const JwtKeySet& keys() const { return *keys_; }
  const std::shared_ptr<const JwtKeySet>& key_set() const { return keys_; }

  // A token for `id` and `audience` (non-empty; order and repeats do not
  // change the cache key) with exp = now + token_ttl, cut short so that it
  // expires before its key leaves the JWKS. Unavailable when that leaves no
  // lifetime at all (the key's rotation is overdue).
  absl::StatusOr<std::string> Issue(const SpiffeId& id, std::vector<std::string> audience,
                                    std::chrono::system_clock::time_point now) const;

 private:
  struct Cached {
    std::string token;
    std::chrono::system_clock::time_point refresh_at;
  };
  using Key = std::pair<std::string, std::vector<std::string>>;

  void Store(Key key, Cached cached, std::chrono::system_clock::time_point now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::shared_ptr<const JwtKeySet> keys_;
  const Duration token_ttl_;
  mutable absl::Mutex mutex_;
  mutable std::map<Key, Cached> cache_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace reattest::identity
