// JWS signatures (RFC 7515, 7518) for JWT-SVIDs: an allow-list of
// asymmetric algorithms. `none` and the HMAC family are never accepted: a
// JWT bundle holds public keys, and an HMAC "verified" with a public key is
// a forgery anyone can make.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "identity/openssl_ptr.h"

namespace reattest::identity {

enum class JwsAlgorithm { kES256, kES384, kES512, kRS256, kRS384, kRS512 };

// nullopt for any name outside the allow-list.
std::optional<JwsAlgorithm> ParseJwsAlgorithm(std::string_view name);
std::string_view JwsAlgorithmName(JwsAlgorithm algorithm);

// The JWS signature of `signing_input` (for ES*, the raw R||S form).
// Thread-safe for a shared `key`.
absl::StatusOr<std::string> JwsSign(JwsAlgorithm algorithm, EVP_PKEY& key,
                                    std::string_view signing_input);

// InvalidArgument when the key does not fit the algorithm (type, curve,
// RSA size) or the signature does not verify.
absl::Status JwsVerify(JwsAlgorithm algorithm, EVP_PKEY& key, std::string_view signing_input,
                       std::string_view signature);

}  // namespace reattest::identity
