#include "identity/local/local_ca.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <utility>

#include "common/process.h"
#include "common/strings.h"
#include "identity/local/durable_file.h"
#include "identity/local/x509_util.h"

namespace reattest::identity {
namespace {

using Clock = std::chrono::system_clock;

// Hosts' clocks disagree a little; an SVID valid only from "now" would be
// rejected by a peer whose clock runs behind.
constexpr std::chrono::seconds kClockSkew(30);
// Keeps `now + ca_ttl` far from overflowing and inside X.509's year 9999.
constexpr Duration kMaxCaTtl = std::chrono::hours(100 * 8760);

constexpr std::string_view kCertFileName = "ca.pem";
constexpr std::string_view kKeyFileName = "ca.key";

std::string FormatTime(Clock::time_point time) {
  std::time_t seconds = Clock::to_time_t(time);
  std::tm utc = {};
  gmtime_r(&seconds, &utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

absl::StatusOr<bool> FileExists(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) == 0) {
    return true;
  }
  if (errno == ENOENT) {
    return false;
  }
  return absl::ErrnoToStatus(errno, Concat("stat ", path));
}

absl::StatusOr<X509Ptr> ReadCaCertificate(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadSmallFile(path);
  if (!pem.ok()) {
    return pem.status();
  }
  absl::StatusOr<std::vector<X509Ptr>> certs = ParseCertificatesPem(*pem);
  if (!certs.ok()) {
    return absl::InvalidArgumentError(Concat(path, ": ", certs.status().message()));
  }
  // An intermediate CA would need its chain in every SVID, which is not supported yet.
  if (certs->size() != 1) {
    return absl::InvalidArgumentError(
        Concat(path, ": holds ", certs->size(), " certificates; give only the signing CA's"));
  }
  return std::move(certs->front());
}

absl::StatusOr<EvpPkeyPtr> ReadCaKey(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadSmallFile(path);
  if (!pem.ok()) {
    return pem.status();
  }
  absl::StatusOr<EvpPkeyPtr> key = ParsePrivateKeyPem(*pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(Concat(path, ": ", key.status().message()));
  }
  return key;
}

absl::Status CheckCaCertificate(X509& cert, const std::string& path,
                                std::string_view trust_domain) {
  uint32_t flags = X509_get_extension_flags(&cert);
  if ((flags & EXFLAG_CA) == 0) {
    return absl::InvalidArgumentError(
        Concat(path, ": not a CA certificate (basicConstraints CA:TRUE is missing)"));
  }
  if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(&cert) & KU_KEY_CERT_SIGN) == 0) {
    return absl::InvalidArgumentError(
        Concat(path, ": the certificate's key usage does not allow signing certificates"));
  }
  for (const std::string& uri : UriSans(cert)) {
    if (!uri.starts_with("spiffe:")) {
      continue;
    }
    absl::StatusOr<SpiffeId> id = SpiffeId::Parse(uri);
    if (!id.ok() || id->trust_domain() != trust_domain) {
      return absl::InvalidArgumentError(
          Concat(path, ": the certificate is for ", uri, ", not trust domain ", trust_domain));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckCaKey(X509& cert, EVP_PKEY& key, const std::string& key_path) {
  int type = EVP_PKEY_get_base_id(&key);
  if (type != EVP_PKEY_EC && type != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError(
        Concat(key_path, ": the CA key must be EC or RSA, to sign with SHA-256"));
  }
  if (EVP_PKEY_eq(X509_get0_pubkey(&cert), &key) != 1) {
    return absl::InvalidArgumentError(
        Concat(key_path, ": the key does not match the CA certificate"));
  }
  return absl::OkStatus();
}

absl::Status CheckUnexpired(const LocalCa& ca, const std::string& cert_path,
                            std::string_view remedy) {
  if (ca.expiry() > Clock::now()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      Concat(cert_path, ": the CA certificate expired at ", FormatTime(ca.expiry()), "; ", remedy));
}

CertificateRequest CaRequest(std::string_view trust_domain, Duration ca_ttl,
                             Clock::time_point now) {
  auto start = std::chrono::floor<std::chrono::seconds>(now);
  return CertificateRequest{.common_name = std::string(trust_domain),
                            .not_before = start - kClockSkew,
                            .not_after = start + ca_ttl,
                            .uri = Concat("spiffe://", trust_domain),
                            .dns_names = {},
                            .is_ca = true};
}

// The key goes first: a crash before the certificate is written leaves no
// ca.pem, so the next start generates a fresh pair rather than loading half of one.
absl::Status PersistCa(const std::string& data_dir, X509& cert, EVP_PKEY& key) {
  absl::StatusOr<std::string> key_pem = PrivateKeyPem(key);
  if (!key_pem.ok()) {
    return key_pem.status();
  }
  absl::Status status = WriteFileDurably(Concat(data_dir, "/", kKeyFileName), *key_pem, 0600);
  if (!status.ok()) {
    return status;
  }
  absl::StatusOr<std::string> cert_pem = CertificatePem(cert);
  if (!cert_pem.ok()) {
    return cert_pem.status();
  }
  return WriteFileDurably(Concat(data_dir, "/", kCertFileName), *cert_pem, 0644);
}

// `ttl` is cut at the CA's expiry; compared before adding so that a huge ttl cannot overflow.
std::pair<Clock::time_point, Clock::time_point> LeafValidity(Clock::time_point now, Duration ttl,
                                                             Clock::time_point ca_expiry) {
  auto start = std::chrono::floor<std::chrono::seconds>(now);
  Clock::time_point not_after = ttl >= ca_expiry - start ? ca_expiry : start + ttl;
  return {start - kClockSkew, std::chrono::floor<std::chrono::seconds>(not_after)};
}

CertificateRequest LeafRequest(const Entry& entry, Clock::time_point not_before,
                               Clock::time_point not_after) {
  return CertificateRequest{
      .common_name = entry.dns_names.empty() ? std::string() : entry.dns_names.front(),
      .not_before = not_before,
      .not_after = not_after,
      .uri = entry.spiffe_id.str(),
      .dns_names = entry.dns_names,
      .is_ca = false};
}

Clock::time_point RotateAt(Clock::time_point not_before, Clock::time_point not_after,
                           double jitter) {
  auto half_life = std::chrono::duration<double, Clock::period>(not_after - not_before) / 2;
  return not_before + std::chrono::round<Clock::duration>(half_life * jitter);
}

}  // namespace

double RandomRotationJitter() {
  uint64_t bits = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&bits), sizeof(bits)) != 1) {
    // Only the spread of rotations suffers; every SVID still rotates at half life.
    return 1.0;
  }
  double unit = static_cast<double>(bits >> 11) * 0x1.0p-53;
  return 0.9 + 0.2 * unit;
}

LocalCa::LocalCa(std::string trust_domain, X509Ptr cert, EvpPkeyPtr key, std::string bundle_der,
                 Clock::time_point expiry, RotationJitter jitter)
    : trust_domain_(std::move(trust_domain)),
      cert_(std::move(cert)),
      key_(std::move(key)),
      bundle_der_(std::move(bundle_der)),
      expiry_(expiry),
      jitter_(std::move(jitter)) {}

absl::StatusOr<std::unique_ptr<LocalCa>> LocalCa::Create(std::string_view trust_domain,
                                                         X509Ptr cert, EvpPkeyPtr key,
                                                         RotationJitter jitter) {
  absl::StatusOr<std::string> der = CertificateDer(*cert);
  if (!der.ok()) {
    return der.status();
  }
  absl::StatusOr<Clock::time_point> expiry = NotAfter(*cert);
  if (!expiry.ok()) {
    return expiry.status();
  }
  // Reads the extensions once here, where OpenSSL caches them, not under concurrent minting.
  X509_get_extension_flags(cert.get());
  return std::unique_ptr<LocalCa>(new LocalCa(std::string(trust_domain), std::move(cert),
                                              std::move(key), *std::move(der), *expiry,
                                              std::move(jitter)));
}

absl::StatusOr<std::unique_ptr<LocalCa>> LocalCa::LoadPair(const std::string& cert_path,
                                                           const std::string& key_path,
                                                           std::string_view trust_domain,
                                                           RotationJitter jitter) {
  absl::StatusOr<X509Ptr> cert = ReadCaCertificate(cert_path);
  if (!cert.ok()) {
    return cert.status();
  }
  absl::StatusOr<EvpPkeyPtr> key = ReadCaKey(key_path);
  if (!key.ok()) {
    return key.status();
  }
  if (absl::Status status = CheckCaCertificate(**cert, cert_path, trust_domain); !status.ok()) {
    return status;
  }
  if (absl::Status status = CheckCaKey(**cert, **key, key_path); !status.ok()) {
    return status;
  }
  return Create(trust_domain, *std::move(cert), *std::move(key), std::move(jitter));
}

absl::StatusOr<std::unique_ptr<LocalCa>> LocalCa::Generate(const std::string& data_dir,
                                                           std::string_view trust_domain,
                                                           Duration ca_ttl, RotationJitter jitter) {
  absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
  if (!key.ok()) {
    return key.status();
  }
  CertificateRequest request = CaRequest(trust_domain, ca_ttl, Clock::now());
  absl::StatusOr<X509Ptr> cert = IssueCertificate(request, **key, nullptr, **key);
  if (!cert.ok()) {
    return cert.status();
  }
  if (absl::Status status = PersistCa(data_dir, **cert, **key); !status.ok()) {
    return status;
  }
  return Create(trust_domain, *std::move(cert), *std::move(key), std::move(jitter));
}

absl::StatusOr<std::unique_ptr<LocalCa>> LocalCa::LoadOrCreate(const std::string& data_dir,
                                                               std::string_view trust_domain,
                                                               Duration ca_ttl,
                                                               RotationJitter jitter) {
  if (absl::Status status = ValidateTrustDomain(trust_domain); !status.ok()) {
    return status;
  }
  if (ca_ttl <= Duration::zero() || ca_ttl > kMaxCaTtl) {
    return absl::InvalidArgumentError(
        Concat("ca_ttl must be above 0 and at most ", FormatDuration(kMaxCaTtl)));
  }
  if (absl::Status status = EnsurePrivateDirectory(data_dir); !status.ok()) {
    return status;
  }
  std::string cert_path = Concat(data_dir, "/", kCertFileName);
  absl::StatusOr<bool> exists = FileExists(cert_path);
  if (!exists.ok()) {
    return exists.status();
  }
  if (!*exists) {
    return Generate(data_dir, trust_domain, ca_ttl, std::move(jitter));
  }

  // TODO: rotate a generated CA at 80% of its life (SPEC section 5): generate
  // the successor, publish it in the bundle before it signs, and keep the old
  // certificate in the bundle until the SVIDs it signed expire. Until then a
  // generated CA serves until it expires, and then start-up fails below.
  absl::StatusOr<std::unique_ptr<LocalCa>> ca =
      LoadPair(cert_path, Concat(data_dir, "/", kKeyFileName), trust_domain, std::move(jitter));
  if (!ca.ok()) {
    return ca.status();
  }
  absl::Status status = CheckUnexpired(
      **ca, cert_path, Concat("delete ca.pem and ca.key in ", data_dir, " to generate a new CA"));
  if (!status.ok()) {
    return status;
  }
  return ca;
}

absl::StatusOr<std::unique_ptr<LocalCa>> LocalCa::LoadFromFiles(const std::string& cert_path,
                                                                const std::string& key_path,
                                                                std::string_view trust_domain,
                                                                RotationJitter jitter) {
  if (absl::Status status = ValidateTrustDomain(trust_domain); !status.ok()) {
    return status;
  }
  absl::StatusOr<std::unique_ptr<LocalCa>> ca =
      LoadPair(cert_path, key_path, trust_domain, std::move(jitter));
  if (!ca.ok()) {
    return ca.status();
  }
  if (absl::Status status = CheckUnexpired(**ca, cert_path, "supply a current CA"); !status.ok()) {
    return status;
  }
  return ca;
}

absl::StatusOr<X509Svid> LocalCa::MintX509Svid(const Entry& entry, Duration ttl,
                                               Clock::time_point now) const {
  if (ttl <= Duration::zero()) {
    return absl::InvalidArgumentError(Concat("x509_ttl of ", entry.spiffe_id.str(),
                                             " must be above 0, not ", FormatDuration(ttl)));
  }
  if (now >= expiry_) {
    return absl::FailedPreconditionError(
        Concat("the CA of ", trust_domain_, " expired at ", FormatTime(expiry_)));
  }
  auto [not_before, not_after] = LeafValidity(now, ttl, expiry_);

  absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
  if (!key.ok()) {
    return key.status();
  }
  absl::StatusOr<X509Ptr> cert =
      IssueCertificate(LeafRequest(entry, not_before, not_after), **key, cert_.get(), *key_);
  if (!cert.ok()) {
    return cert.status();
  }
  absl::StatusOr<std::string> chain = CertificateDer(**cert);
  absl::StatusOr<std::string> private_key = PrivateKeyPkcs8Der(**key);
  if (!chain.ok() || !private_key.ok()) {
    return chain.ok() ? private_key.status() : chain.status();
  }

  return X509Svid{.spiffe_id = entry.spiffe_id,
                  .hint = entry.hint,
                  .cert_chain_der = *std::move(chain),
                  .private_key_der = *std::move(private_key),
                  .not_before = not_before,
                  .not_after = not_after,
                  .rotate_at = RotateAt(not_before, not_after, jitter_())};
}

}  // namespace reattest::identity
