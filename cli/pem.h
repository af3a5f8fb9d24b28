// Converting the Workload API's DER blobs to PEM, and describing them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace reattest::cli {

struct CertificateSummary {
  std::string pem;
  std::string not_before;  // "2026-12-03 20:10:00 UTC"
  std::string not_after;
};

// Splits concatenated DER certificates (a chain or a bundle).
absl::StatusOr<std::vector<CertificateSummary>> ParseDerCertificates(std::string_view der);
// The PEM blocks of `certificates`, concatenated.
std::string JoinPem(const std::vector<CertificateSummary>& certificates);
// PKCS#8 DER to a `PRIVATE KEY` PEM block.
absl::StatusOr<std::string> PrivateKeyPem(std::string_view pkcs8_der);

}  // namespace reattest::cli
