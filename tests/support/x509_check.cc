#include "tests/support/x509_check.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace reattest::testing {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

std::vector<X509Ptr> ParseAll(const std::string& der) {
  std::vector<X509Ptr> certs;
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  const auto* end = cursor + der.size();
  while (cursor < end) {
    X509* cert = d2i_X509(nullptr, &cursor, static_cast<long>(end - cursor));
    if (cert == nullptr) {
      break;
    }
    certs.emplace_back(cert, &X509_free);
  }
  return certs;
}

std::string OnlyUriSan(X509* cert) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  std::string uri;
  int uris = 0;
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_URI) {
      ++uris;
      uri.assign(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.uniformResourceIdentifier)),
          static_cast<size_t>(ASN1_STRING_length(name->d.uniformResourceIdentifier)));
    }
  }
  GENERAL_NAMES_free(names);
  return uris == 1 ? uri : "";
}

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

BioPtr ReadBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
}

// Every certificate of a PEM text as concatenated DER.
std::string CertificatesDer(const std::string& pem) {
  BioPtr bio = ReadBio(pem);
  std::string der;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    unsigned char* out = nullptr;
    int size = i2d_X509(cert, &out);
    der.append(reinterpret_cast<char*>(out), static_cast<size_t>(std::max(size, 0)));
    OPENSSL_free(out);
    X509_free(cert);
  }
  return der;
}

std::string PrivateKeyDer(const std::string& pem) {
  BioPtr bio = ReadBio(pem);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (key == nullptr) {
    return "";
  }
  unsigned char* out = nullptr;
  int size = i2d_PrivateKey(key.get(), &out);
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(std::max(size, 0)));
  OPENSSL_free(out);
  return der;
}

}  // namespace

SvidCheck CheckPemSvid(const std::string& chain_pem, const std::string& key_pem,
                       const std::string& bundle_pem) {
  return CheckSvid(CertificatesDer(chain_pem), PrivateKeyDer(key_pem), CertificatesDer(bundle_pem));
}

SvidCheck CheckSvid(const std::string& chain_der, const std::string& key_der,
                    const std::string& bundle_der) {
  SvidCheck check;
  std::vector<X509Ptr> chain = ParseAll(chain_der);
  std::vector<X509Ptr> bundle = ParseAll(bundle_der);
  if (chain.empty() || bundle.empty()) {
    check.error = "empty chain or bundle";
    return check;
  }
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  for (X509Ptr& root : bundle) {
    X509_STORE_add_cert(store.get(), root.get());
  }
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> intermediates(
      sk_X509_new_null(), [](STACK_OF(X509) * stack) { sk_X509_free(stack); });
  for (size_t i = 1; i < chain.size(); ++i) {
    sk_X509_push(intermediates.get(), chain[i].get());
  }
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), intermediates.get());
  check.chains_to_bundle = X509_verify_cert(ctx.get()) == 1;
  if (!check.chains_to_bundle) {
    check.error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  }
  check.uri_san = OnlyUriSan(chain[0].get());

  const auto* key_cursor = reinterpret_cast<const unsigned char*>(key_der.data());
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      d2i_AutoPrivateKey(nullptr, &key_cursor, static_cast<long>(key_der.size())), &EVP_PKEY_free);
  check.key_matches = key != nullptr && X509_check_private_key(chain[0].get(), key.get()) == 1;
  return check;
}

}  // namespace reattest::testing
