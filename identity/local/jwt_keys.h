// The local source's JWT authority (SPEC section 5): EC P-256 signing keys
// kept in `data_dir`/jwt_keys.json (mode 0600, written durably), one signer
// at a time, replaced every `jwt_key_ttl`. A replaced key stays published in
// the JWKS until every token it signed has expired.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/duration.h"
#include "identity/jwt/jwk.h"

namespace reattest::identity {

struct JwtKeyPolicy {
  std::string data_dir;
  Duration key_ttl = std::chrono::hours(24);
  Duration token_ttl = std::chrono::minutes(5);
};

struct JwtKey {
  JwtPublicKey key;  // EVP_PKEY with the private half
  std::chrono::system_clock::time_point created;
  // Set once replaced: dropped from the JWKS at this time.
  std::optional<std::chrono::system_clock::time_point> publish_until;
};

// Immutable once built; shared between threads.
class JwtKeySet {
 public:
  // Loads the keys of `policy.data_dir`, or generates the first one, then
  // brings them up to `now` as Advance() does. Blocks on disk I/O and key
  // generation: start-up or the thread pool.
  static absl::StatusOr<std::shared_ptr<const JwtKeySet>> LoadOrCreate(
      const JwtKeyPolicy& policy, std::chrono::system_clock::time_point now);

  // The set at `now`: a signer `key_ttl` old is replaced (and published for
  // `token_ttl` more), expired replaced keys are dropped; persisted when
  // anything changed. Returns `current` itself when nothing did.
  static absl::StatusOr<std::shared_ptr<const JwtKeySet>> Advance(
      std::shared_ptr<const JwtKeySet> current, const JwtKeyPolicy& policy,
      std::chrono::system_clock::time_point now);

  const JwtPublicKey& signer() const { return keys_.front().key; }
  // When the signer is replaced; tokens it signs expire by then + token_ttl.
  std::chrono::system_clock::time_point signer_rotate_at() const { return signer_rotate_at_; }
  // Every published key, the signer first.
  const std::vector<JwtPublicKey>& published() const { return published_; }
  // The JWKS document of `published()`.
  const std::string& jwks() const { return jwks_; }
  // When Advance() will next change something.
  std::chrono::system_clock::time_point next_change() const;

 private:
  JwtKeySet(std::vector<JwtKey> keys, std::chrono::system_clock::time_point signer_rotate_at,
            std::vector<JwtPublicKey> published, std::string jwks)
      : keys_(std::move(keys)),
        signer_rotate_at_(signer_rotate_at),
        published_(std::move(published)),
        jwks_(std::move(jwks)) {}
  static absl::StatusOr<std::shared_ptr<const JwtKeySet>> Build(std::vector<JwtKey> keys,
                                                                const JwtKeyPolicy& policy);

  std::vector<JwtKey> keys_;  // the signer first
  std::chrono::system_clock::time_point signer_rotate_at_;
  std::vector<JwtPublicKey> published_;
  std::string jwks_;
};

}  // namespace reattest::identity
