// The local identity source's certificate authority: one EC P-256 (or
// operator-supplied) CA per trust domain that mints X.509-SVIDs and whose
// certificate is the trust bundle.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/duration.h"
#include "identity/entry.h"
#include "identity/openssl_ptr.h"
#include "identity/x509_svid.h"

namespace reattest::identity {

// Spreads SVID rotations: returns a factor in [0.9, 1.1] applied to half an
// SVID's lifetime. Called from whichever thread mints, so it must be thread-safe.
using RotationJitter = std::function<double()>;

// Uniform in [0.9, 1.1], from OpenSSL's thread-safe random generator.
double RandomRotationJitter();

class LocalCa {
 public:
  // Loads `data_dir`/ca.pem and ca.key, or on first start generates a CA for
  // `trust_domain` valid for `ca_ttl` and persists it there (key mode 0600,
  // each file written durably; `data_dir` is created with mode 0700 if
  // missing). A loaded CA must belong to `trust_domain` and be unexpired; it
  // is not yet rotated at 80% of its life (see the TODO in local_ca.cc).
  // Blocks on disk I/O: call it at start-up or from the thread pool.
  static absl::StatusOr<std::unique_ptr<LocalCa>> LoadOrCreate(
      const std::string& data_dir, std::string_view trust_domain, Duration ca_ttl,
      RotationJitter jitter = RandomRotationJitter);

  // An operator-supplied CA (`identity.local.ca_cert` and `ca_key`, PEM). The
  // certificate file holds exactly the one signing certificate; it must be a
  // CA allowed to sign certificates, unexpired, not carry a SPIFFE ID of
  // another trust domain, and match the key (EC or RSA).
  static absl::StatusOr<std::unique_ptr<LocalCa>> LoadFromFiles(
      const std::string& cert_path, const std::string& key_path, std::string_view trust_domain,
      RotationJitter jitter = RandomRotationJitter);

  // A bare name: `example.org`.
  const std::string& trust_domain() const { return trust_domain_; }
  // The trust bundle: DER of the CA certificate(s), concatenated.
  const std::string& bundle_der() const { return bundle_der_; }
  std::chrono::system_clock::time_point expiry() const { return expiry_; }

  // Mints a new X.509-SVID for `entry` with a fresh key, valid from 30 s
  // before `now` (clock skew between hosts) for `ttl`, cut short at the CA's
  // expiry. InvalidArgument for a non-positive ttl, FailedPrecondition once
  // the CA has expired. Thread-safe: reads only immutable state.
  absl::StatusOr<X509Svid> MintX509Svid(const Entry& entry, Duration ttl,
                                        std::chrono::system_clock::time_point now) const;

 private:
  LocalCa(std::string trust_domain, X509Ptr cert, EvpPkeyPtr key, std::string bundle_der,
          std::chrono::system_clock::time_point expiry, RotationJitter jitter);

  // Reads and checks a certificate and key, whatever their expiry.
  static absl::StatusOr<std::unique_ptr<LocalCa>> LoadPair(const std::string& cert_path,
                                                           const std::string& key_path,
                                                           std::string_view trust_domain,
                                                           RotationJitter jitter);
  // Makes a new self-signed CA and persists it in `data_dir`.
  static absl::StatusOr<std::unique_ptr<LocalCa>> Generate(const std::string& data_dir,
                                                           std::string_view trust_domain,
                                                           Duration ca_ttl, RotationJitter jitter);
  static absl::StatusOr<std::unique_ptr<LocalCa>> Create(std::string_view trust_domain,
                                                         X509Ptr cert, EvpPkeyPtr key,
                                                         RotationJitter jitter);

  const std::string trust_domain_;
  const X509Ptr cert_;
  const EvpPkeyPtr key_;
  const std::string bundle_der_;
  const std::chrono::system_clock::time_point expiry_;
  const RotationJitter jitter_;
};

}  // namespace reattest::identity
