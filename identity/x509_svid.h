// An X.509-SVID as the Workload API and SDS hand it out.
#pragma once

#include <chrono>
#include <string>

#include "common/spiffe_id.h"

namespace reattest::identity {

struct X509Svid {
  SpiffeId spiffe_id;
  std::string hint;
  // DER certificates, leaf first, concatenated.
  std::string cert_chain_der;
  // The leaf's private key, DER PKCS#8.
  std::string private_key_der;
  // The leaf's validity, to the second as in the certificate.
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  // When to mint a successor: about half-way through the validity.
  std::chrono::system_clock::time_point rotate_at;
};

}  // namespace reattest::identity
