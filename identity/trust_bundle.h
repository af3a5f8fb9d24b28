// Trust bundles of other trust domains (SPEC section 5: `federated_bundles`),
// as the APIs hand them out. A bundle file is PEM CA certificates, or a
// SPIFFE bundle (JWKS JSON with `x509-svid` and `jwt-svid` keys), which is
// how a partner shares its JWT authorities too.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "identity/jwt/jwk.h"

namespace reattest::identity {

// Immutable once built; shared between snapshots and threads.
struct TrustBundle {
  // `spiffe://partner.org`.
  std::string trust_domain_id;
  // DER CA certificates, concatenated.
  std::string x509_der;
  // JWT authorities; a PEM file has none.
  std::vector<JwtPublicKey> jwt_keys;
  // The JWKS document of `jwt_keys`.
  std::string jwks;
};

// By trust domain ID.
using FederatedBundles = std::map<std::string, std::shared_ptr<const TrustBundle>>;

// Parses the text of `file_name` (used in messages): a SPIFFE bundle when it
// starts with `{`, else PEM. Every certificate must be a CA; a SPIFFE
// bundle's jwt-svid keys need a kid. InvalidArgument naming the file otherwise.
absl::StatusOr<std::shared_ptr<const TrustBundle>> ParseBundleFile(std::string_view trust_domain_id,
                                                                   std::string_view text,
                                                                   const std::string& file_name);

// The federated bundles read from their files, with the texts they were
// parsed from (by trust domain ID), to tell a changed file from an event.
struct BundleFiles {
  FederatedBundles bundles;
  std::map<std::string, std::string> texts;

  bool operator==(const BundleFiles& other) const { return texts == other.texts; }
};

// Reads every file of `files` (trust domain ID to PEM path). A file whose
// text has not changed since `previous` keeps its bundle; one that cannot be
// read or parsed keeps its bundle of `previous`, if any, and adds an error
// to `errors`. Blocks on file I/O: start-up or the thread pool.
BundleFiles ReadBundleFiles(const std::map<std::string, std::string>& files,
                            const BundleFiles& previous, std::vector<absl::Status>& errors);

}  // namespace reattest::identity
