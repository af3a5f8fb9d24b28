#include "identity/local/x509_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <ctime>
#include <span>

#include "common/strings.h"

namespace reattest::identity {
namespace {

// RFC 5280 caps the common name at 64 characters; OpenSSL refuses longer ones.
constexpr size_t kMaxCommonName = 64;

// 128 random bits with the top one set: positive, non-zero, and a fixed-size encoding.
constexpr int kSerialBits = 128;

struct FixedExtension {
  const char* name;
  // OpenSSL's config syntax.
  const char* value;
};

constexpr FixedExtension kCaExtensions[] = {
    {"basicConstraints", "critical,CA:TRUE"},
    {"keyUsage", "critical,keyCertSign,cRLSign"},
    {"subjectKeyIdentifier", "hash"},
    {"authorityKeyIdentifier", "keyid:always"},
};

// `keyid` without `always`: an operator's CA that lacks a subject key
// identifier still signs, its leaves just carry no AKI.
constexpr FixedExtension kLeafExtensions[] = {
    {"basicConstraints", "critical,CA:FALSE"},
    {"keyUsage", "critical,digitalSignature,keyEncipherment,keyAgreement"},
    {"extendedKeyUsage", "serverAuth,clientAuth"},
    {"subjectKeyIdentifier", "hash"},
    {"authorityKeyIdentifier", "keyid"},
};

absl::Status SetRandomSerial(X509& cert) {
  BignumPtr serial(BN_new());
  if (!serial || !BN_rand(serial.get(), kSerialBits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(&cert))) {
    return OpenSslError("random serial number");
  }
  return absl::OkStatus();
}

absl::Status SetSubject(X509& cert, const std::string& common_name) {
  X509NamePtr name(X509_NAME_new());
  auto add = [&](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                      0) == 1;
  };
  bool ok = name && add("O", "reattest");
  if (ok && !common_name.empty() && common_name.size() <= kMaxCommonName) {
    ok = add("CN", common_name);
  }
  if (!ok || !X509_set_subject_name(&cert, name.get())) {
    return OpenSslError("certificate subject");
  }
  return absl::OkStatus();
}

absl::Status SetValidity(X509& cert, std::chrono::system_clock::time_point not_before,
                         std::chrono::system_clock::time_point not_after) {
  using std::chrono::system_clock;
  if (!ASN1_TIME_set(X509_getm_notBefore(&cert), system_clock::to_time_t(not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(&cert), system_clock::to_time_t(not_after))) {
    return OpenSslError("certificate validity");
  }
  return absl::OkStatus();
}

// Appends one IA5String name; GENERAL_NAMES takes ownership only on success.
bool PushName(GENERAL_NAMES& names, int type, const std::string& value) {
  Asn1Ia5StringPtr text(ASN1_IA5STRING_new());
  GeneralNamePtr name(GENERAL_NAME_new());
  if (!text || !name ||
      !ASN1_STRING_set(text.get(), value.data(), static_cast<int>(value.size()))) {
    return false;
  }
  GENERAL_NAME_set0_value(name.get(), type, text.release());
  if (!sk_GENERAL_NAME_push(&names, name.get())) {
    return false;
  }
  name.release();
  return true;
}

// Built from objects rather than OpenSSL's config syntax, where a comma in a
// name would start another entry.
absl::Status AddSubjectAltNames(X509& cert, const CertificateRequest& request) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  bool ok = names && PushName(*names, GEN_URI, request.uri);
  for (const std::string& dns_name : request.dns_names) {
    ok = ok && PushName(*names, GEN_DNS, dns_name);
  }
  if (!ok || !X509_add1_ext_i2d(&cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT)) {
    return OpenSslError("subjectAltName");
  }
  return absl::OkStatus();
}

// Adds fixed extensions written in OpenSSL's config syntax; the key
// identifiers need `issuer` and, when self-signed, the issuer's key.
absl::Status AddFixedExtensions(X509& cert, X509& issuer, EVP_PKEY& issuer_key, bool is_ca) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, &issuer, &cert, nullptr, nullptr, 0);
  X509V3_set_ctx_nodb(&context);
  if (!X509V3_set_issuer_pkey(&context, &issuer_key)) {
    return OpenSslError("extension context");
  }
  std::span<const FixedExtension> extensions = kLeafExtensions;
  if (is_ca) {
    extensions = kCaExtensions;
  }
  for (const auto& [name, value] : extensions) {
    X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &context, OBJ_sn2nid(name), value));
    if (!extension || !X509_add_ext(&cert, extension.get(), -1)) {
      return OpenSslError(Concat("extension ", name));
    }
  }
  return absl::OkStatus();
}

absl::Status SetFields(X509& cert, const CertificateRequest& request, EVP_PKEY& subject_key,
                       X509* issuer) {
  if (!X509_set_version(&cert, X509_VERSION_3) || !X509_set_pubkey(&cert, &subject_key)) {
    return OpenSslError("certificate version and key");
  }
  if (absl::Status status = SetRandomSerial(cert); !status.ok()) {
    return status;
  }
  if (absl::Status status = SetSubject(cert, request.common_name); !status.ok()) {
    return status;
  }
  X509_NAME* issuer_name = X509_get_subject_name(issuer != nullptr ? issuer : &cert);
  if (!X509_set_issuer_name(&cert, issuer_name)) {
    return OpenSslError("certificate issuer");
  }
  if (absl::Status status = SetValidity(cert, request.not_before, request.not_after);
      !status.ok()) {
    return status;
  }
  return AddSubjectAltNames(cert, request);
}

// Runs an OpenSSL i2d function twice: once for the size, once to encode.
template <typename T>
absl::StatusOr<std::string> ToDer(int (*i2d)(const T*, unsigned char**), const T& object,
                                  std::string_view what) {
  int size = i2d(&object, nullptr);
  if (size <= 0) {
    return OpenSslError(what);
  }
  std::string der(static_cast<size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d(&object, &out) != size) {
    return OpenSslError(what);
  }
  return der;
}

absl::StatusOr<std::string> BioContents(BIO& bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(&bio, &data);
  if (size < 0) {
    return OpenSslError("memory buffer");
  }
  return std::string(data, static_cast<size_t>(size));
}

BioPtr ReadOnlyBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

}  // namespace

absl::Status OpenSslError(std::string_view what) {
  std::string message(what);
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    message = Concat(message, ": ", buf);
  }
  return absl::InternalError(message);
}

absl::StatusOr<EvpPkeyPtr> GenerateP256Key() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) {
    return OpenSslError("generate P-256 key");
  }
  return key;
}

absl::StatusOr<X509Ptr> IssueCertificate(const CertificateRequest& request, EVP_PKEY& subject_key,
                                         X509* issuer, EVP_PKEY& issuer_key) {
  X509Ptr cert(X509_new());
  if (!cert) {
    return OpenSslError("allocate certificate");
  }
  if (absl::Status status = SetFields(*cert, request, subject_key, issuer); !status.ok()) {
    return status;
  }
  X509& signer = issuer != nullptr ? *issuer : *cert;
  if (absl::Status status = AddFixedExtensions(*cert, signer, issuer_key, request.is_ca);
      !status.ok()) {
    return status;
  }
  if (X509_sign(cert.get(), &issuer_key, EVP_sha256()) <= 0) {
    return OpenSslError("sign certificate");
  }
  return cert;
}

absl::StatusOr<std::string> CertificateDer(const X509& cert) {
  return ToDer(i2d_X509, cert, "encode certificate");
}

absl::StatusOr<std::string> PrivateKeyPkcs8Der(const EVP_PKEY& key) {
  Pkcs8Ptr pkcs8(EVP_PKEY2PKCS8(&key));
  if (!pkcs8) {
    return OpenSslError("convert key to PKCS#8");
  }
  return ToDer(i2d_PKCS8_PRIV_KEY_INFO, *pkcs8, "encode PKCS#8 key");
}

absl::StatusOr<std::string> CertificatePem(X509& cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_X509(bio.get(), &cert)) {
    return OpenSslError("write certificate PEM");
  }
  return BioContents(*bio);
}

absl::StatusOr<std::string> PrivateKeyPem(EVP_PKEY& key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_PrivateKey(bio.get(), &key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return OpenSslError("write key PEM");
  }
  return BioContents(*bio);
}

absl::StatusOr<std::vector<X509Ptr>> ParseCertificatesPem(std::string_view pem) {
  BioPtr bio = ReadOnlyBio(pem);
  std::vector<X509Ptr> certs;
  while (bio) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      break;
    }
    certs.push_back(std::move(cert));
  }
  // The read that finds no further certificate leaves an error behind.
  ERR_clear_error();
  if (certs.empty()) {
    return absl::InvalidArgumentError("no PEM certificate found");
  }
  return certs;
}

absl::StatusOr<EvpPkeyPtr> ParsePrivateKeyPem(std::string_view pem) {
  BioPtr bio = ReadOnlyBio(pem);
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    absl::Status error = OpenSslError("no PEM private key found");
    return absl::InvalidArgumentError(error.message());
  }
  return key;
}

absl::StatusOr<std::chrono::system_clock::time_point> NotAfter(const X509& cert) {
  std::tm time = {};
  if (!ASN1_TIME_to_tm(X509_get0_notAfter(&cert), &time)) {
    return OpenSslError("certificate notAfter");
  }
  return std::chrono::system_clock::from_time_t(timegm(&time));
}

std::vector<std::string> UriSans(const X509& cert) {
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(&cert, NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> uris;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_URI) {
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                        static_cast<size_t>(ASN1_STRING_length(uri)));
    }
  }
  return uris;
}

absl::StatusOr<std::string> CertificatesDerToPem(std::string_view der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  const auto* end = cursor + der.size();
  std::string pem;
  while (cursor < end) {
    X509Ptr cert(d2i_X509(nullptr, &cursor, static_cast<long>(end - cursor)));
    if (!cert) {
      return OpenSslError("malformed DER certificate");
    }
    absl::StatusOr<std::string> block = CertificatePem(*cert);
    if (!block.ok()) {
      return block.status();
    }
    pem += *block;
  }
  return pem;
}

absl::StatusOr<std::string> PrivateKeyDerToPem(std::string_view pkcs8_der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(pkcs8_der.data());
  EvpPkeyPtr key(d2i_AutoPrivateKey(nullptr, &cursor, static_cast<long>(pkcs8_der.size())));
  if (!key) {
    return OpenSslError("malformed PKCS#8 private key");
  }
  return PrivateKeyPem(*key);
}

}  // namespace reattest::identity
