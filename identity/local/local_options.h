// Settings of the local identity source (`identity.local` in the config file).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/duration.h"

namespace reattest::identity {

struct LocalOptions {
  // Absolute path (the config loader resolves relative ones).
  std::string entries_file;
  Duration x509_ttl = std::chrono::hours(1);
  Duration jwt_ttl = std::chrono::minutes(5);
  Duration jwt_key_ttl = std::chrono::hours(24);
  Duration ca_ttl = std::chrono::hours(8760);
  // Both set, or neither (then the CA lives in data_dir).
  std::optional<std::string> ca_cert;
  std::optional<std::string> ca_key;
  // Trust domain ID (`spiffe://partner.org`) to a bundle file: PEM CA
  // certificates or a SPIFFE bundle (JWKS JSON).
  std::map<std::string, std::string> federated_bundles;
};

}  // namespace reattest::identity
