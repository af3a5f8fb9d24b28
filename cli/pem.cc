#include "cli/pem.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace reattest::cli {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::string Drain(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string FormatTime(const ASN1_TIME* time) {
  tm parsed{};
  ASN1_TIME_to_tm(time, &parsed);
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &parsed);
  return buf;
}

}  // namespace

absl::StatusOr<std::vector<CertificateSummary>> ParseDerCertificates(std::string_view der) {
  std::vector<CertificateSummary> certificates;
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  const auto* end = cursor + der.size();
  while (cursor < end) {
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        d2i_X509(nullptr, &cursor, static_cast<long>(end - cursor)), &X509_free);
    if (cert == nullptr) {
      return absl::InvalidArgumentError("malformed DER certificate");
    }
    BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_X509(bio.get(), cert.get());
    certificates.push_back({Drain(bio.get()), FormatTime(X509_get0_notBefore(cert.get())),
                            FormatTime(X509_get0_notAfter(cert.get()))});
  }
  return certificates;
}

absl::StatusOr<std::string> PrivateKeyPem(std::string_view pkcs8_der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(pkcs8_der.data());
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      d2i_AutoPrivateKey(nullptr, &cursor, static_cast<long>(pkcs8_der.size())), &EVP_PKEY_free);
  if (key == nullptr) {
    return absl::InvalidArgumentError("malformed PKCS#8 private key");
  }
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return Drain(bio.get());
}

std::string JoinPem(const std::vector<CertificateSummary>& certificates) {
  std::string pem;
  for (const CertificateSummary& cert : certificates) {
    pem += cert.pem;
  }
  return pem;
}

}  // namespace reattest::cli
