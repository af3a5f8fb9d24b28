// Checks an X509SVID the way a relying party would, with OpenSSL.
#pragma once

#include <string>

namespace reattest::testing {

struct SvidCheck {
  bool chains_to_bundle = false;
  std::string uri_san;  // the only URI SAN, or "" if not exactly one
  bool key_matches = false;
  std::string error;
};

SvidCheck CheckSvid(const std::string& chain_der, const std::string& key_der,
                    const std::string& bundle_der);
// The same for PEM, as SDS carries them.
SvidCheck CheckPemSvid(const std::string& chain_pem, const std::string& key_pem,
                       const std::string& bundle_pem);

}  // namespace reattest::testing
