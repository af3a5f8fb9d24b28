// X.509 and key plumbing for the local CA: key generation, certificate
// issuance, and conversions between OpenSSL objects, DER and PEM. Every
// function is thread-safe for distinct arguments; `issuer` and `issuer_key`
// may be shared between threads because they are only read.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "identity/openssl_ptr.h"

namespace reattest::identity {

// What differs between the certificates the local CA issues.
struct CertificateRequest {
  // Becomes the subject CN when it fits (at most 64 characters); the subject
  // always carries O=reattest.
  std::string common_name;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  // The one URI SAN: a SPIFFE ID.
  std::string uri;
  std::vector<std::string> dns_names;
  // A CA gets CA:TRUE and keyCertSign/cRLSign; a leaf gets CA:FALSE, the
  // X.509-SVID key usages and serverAuth/clientAuth.
  bool is_ca = false;
};

// The pending OpenSSL errors of this thread, drained, as an Internal status
// whose message starts with `what`.
absl::Status OpenSslError(std::string_view what);

absl::StatusOr<EvpPkeyPtr> GenerateP256Key();

// Issues a certificate for `subject_key` signed with `issuer_key` (SHA-256).
// A null `issuer` makes it self-signed: then `issuer_key` must be `subject_key`.
absl::StatusOr<X509Ptr> IssueCertificate(const CertificateRequest& request, EVP_PKEY& subject_key,
                                         X509* issuer, EVP_PKEY& issuer_key);

absl::StatusOr<std::string> CertificateDer(const X509& cert);
absl::StatusOr<std::string> PrivateKeyPkcs8Der(const EVP_PKEY& key);
absl::StatusOr<std::string> CertificatePem(X509& cert);
// PKCS#8, unencrypted: the file's mode protects it.
absl::StatusOr<std::string> PrivateKeyPem(EVP_PKEY& key);

// Every certificate of a PEM text, in order; an error when there is none.
absl::StatusOr<std::vector<X509Ptr>> ParseCertificatesPem(std::string_view pem);
absl::StatusOr<EvpPkeyPtr> ParsePrivateKeyPem(std::string_view pem);

absl::StatusOr<std::chrono::system_clock::time_point> NotAfter(const X509& cert);
// The URI entries of the subjectAltName extension, in order.
std::vector<std::string> UriSans(const X509& cert);

// Concatenated DER certificates (a chain or a bundle) as PEM blocks, in the
// same order: the form Envoy's SDS wants.
absl::StatusOr<std::string> CertificatesDerToPem(std::string_view der);
// A DER PKCS#8 private key as a `PRIVATE KEY` PEM block.
absl::StatusOr<std::string> PrivateKeyDerToPem(std::string_view pkcs8_der);

}  // namespace reattest::identity
