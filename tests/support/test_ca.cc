#include "tests/support/test_ca.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace reattest::testing {
namespace {

template <auto kFree>
struct Free {
  template <typename T>
  void operator()(T* object) const {
    kFree(object);
  }
};

using KeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Free<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;

void Require(bool ok, const char* what) {
  if (!ok) {
    throw std::runtime_error(std::string("test CA: ") + what);
  }
}

CertPtr SelfSigned(EVP_PKEY& key, const std::string& common_name) {
  CertPtr cert(X509_new());
  Require(cert && X509_set_version(cert.get(), 2) == 1, "new certificate");
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  Require(X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), &key) == 1,
          "names and key");
  ExtensionPtr ca(X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE"));
  Require(ca && X509_add_ext(cert.get(), ca.get(), -1) == 1, "basicConstraints");
  Require(X509_sign(cert.get(), &key, EVP_sha256()) > 0, "sign");
  return cert;
}

}  // namespace

TestCa MakeTestCa(const std::string& common_name) {
  KeyPtr key(EVP_EC_gen("P-256"));
  Require(key != nullptr, "generate key");
  CertPtr cert = SelfSigned(*key, common_name);

  BioPtr bio(BIO_new(BIO_s_mem()));
  Require(PEM_write_bio_X509(bio.get(), cert.get()) == 1, "PEM");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  TestCa ca;
  ca.pem.assign(data, static_cast<size_t>(size));

  unsigned char* der = nullptr;
  int der_size = i2d_X509(cert.get(), &der);
  Require(der_size > 0, "DER");
  ca.der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(der_size));
  OPENSSL_free(der);
  return ca;
}

}  // namespace reattest::testing
