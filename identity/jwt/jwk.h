// JWT authority keys as JSON Web Keys (RFC 7517), the form JWT bundles take
// on the wire (SPEC section 4): `kid`, `kty`, `crv`, `x`, `y` (EC) or `n`,
// `e` (RSA), and `use: jwt-svid`.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "identity/openssl_ptr.h"

namespace reattest::identity {

// One public key of a JWT authority. The key is shared, never modified.
struct JwtPublicKey {
  std::string kid;
  std::shared_ptr<EVP_PKEY> key;
};

// Takes ownership of an OpenSSL key for sharing.
std::shared_ptr<EVP_PKEY> ShareKey(EvpPkeyPtr key);

// The JWKS document `{"keys": [...]}` listing `keys` in order, with
// deterministic bytes (members sorted), so equal sets render equally.
// Fails for a key that is neither EC (P-256, P-384, P-521) nor RSA.
absl::StatusOr<std::string> RenderJwks(const std::vector<JwtPublicKey>& keys);

// Parses one public JWK (JSON object text): EC on P-256, P-384 or P-521
// (`crv`, `x`, `y`) or RSA (`n`, `e`). `kid` is kept as given (may be empty).
// InvalidArgument naming what is wrong.
absl::StatusOr<JwtPublicKey> ParseJwk(std::string_view json);

}  // namespace reattest::identity
