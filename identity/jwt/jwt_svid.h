// JWT-SVIDs (the SPIFFE JWT-SVID standard): minting and validation. Pure
// functions over immutable keys; any thread may call them.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/spiffe_id.h"
#include "identity/jwt/jwk.h"

namespace reattest::identity {

struct JwtSvidClaims {
  SpiffeId subject;
  // Non-empty; the token's `aud` is always an array.
  std::vector<std::string> audience;
  std::chrono::system_clock::time_point issued_at;
  std::chrono::system_clock::time_point expiry;
};

// An ES256 JWS compact serialization of `claims` (`sub`, `aud`, `iat`,
// `exp`, whole seconds), with `kid` and `typ: JWT` in its header. `key`
// must be EC P-256.
absl::StatusOr<std::string> SignJwtSvid(const JwtSvidClaims& claims, const JwtPublicKey& key);

// JWT authorities a validator trusts, by bare trust domain name.
using JwtTrust = std::map<std::string, std::vector<JwtPublicKey>, std::less<>>;

struct ValidatedJwtSvid {
  SpiffeId spiffe_id;
  // The payload's JSON object, as the token carries it.
  std::string claims_json;
};

// Checks `token` against `trust`: the algorithm (allow-listed, see jws.h),
// a `kid` that the bundle of the subject's trust domain holds, the
// signature, `exp` (required, in the future), `nbf` when present, and that
// `aud` names `audience`. Every failure is InvalidArgument with the reason.
absl::StatusOr<ValidatedJwtSvid> ValidateJwtSvid(std::string_view token, std::string_view audience,
                                                 const JwtTrust& trust,
                                                 std::chrono::system_clock::time_point now);

}  // namespace reattest::identity
