#include "identity/trust_bundle.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "common/process.h"
#include "common/strings.h"
#include "identity/local/x509_util.h"

namespace reattest::identity {
namespace {

using Json = nlohmann::json;

absl::Status FileError(const std::string& file_name, absl::string_view message) {
  return absl::InvalidArgumentError(Concat(file_name, ": ", message));
}

// A leaf in a bundle would be trusted to sign SVIDs: only CA certificates go in.
absl::Status AddCa(TrustBundle& bundle, const X509& cert, const std::string& file_name) {
  if ((X509_get_extension_flags(const_cast<X509*>(&cert)) & EXFLAG_CA) == 0) {
    return FileError(file_name, "holds a certificate that is not a CA (basicConstraints CA:TRUE)");
  }
  absl::StatusOr<std::string> der = CertificateDer(cert);
  if (!der.ok()) {
    return der.status();
  }
  bundle.x509_der += *der;
  return absl::OkStatus();
}

absl::Status ParsePem(TrustBundle& bundle, std::string_view pem, const std::string& file_name) {
  absl::StatusOr<std::vector<X509Ptr>> certs = ParseCertificatesPem(pem);
  if (!certs.ok()) {
    return FileError(file_name, certs.status().message());
  }
  for (const X509Ptr& cert : *certs) {
    if (absl::Status status = AddCa(bundle, *cert, file_name); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

// `x5c` entries are standard (padded) base64 DER, not base64url.
absl::StatusOr<X509Ptr> ParseX5c(const Json& key) {
  if (!key.contains("x5c") || !key["x5c"].is_array() || key["x5c"].size() != 1 ||
      !key["x5c"][0].is_string()) {
    return absl::InvalidArgumentError("an x509-svid key needs exactly one x5c certificate");
  }
  std::string text = key["x5c"][0].get<std::string>();
  std::string der(text.size(), '\0');
  int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                             reinterpret_cast<const unsigned char*>(text.data()),
                             static_cast<int>(text.size()));
  if (size < 0) {
    return absl::InvalidArgumentError("an x5c certificate is not base64");
  }
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  // Padding decodes to trailing zeros, which d2i stops before.
  X509Ptr cert(d2i_X509(nullptr, &cursor, size));
  if (!cert) {
    return absl::InvalidArgumentError("an x5c certificate is not DER X.509");
  }
  return cert;
}

absl::Status ParseSpiffeKey(TrustBundle& bundle, const Json& key, const std::string& file_name) {
  std::string use = key.value("use", "");
  if (use == "x509-svid") {
    absl::StatusOr<X509Ptr> cert = ParseX5c(key);
    return cert.ok() ? AddCa(bundle, **cert, file_name)
                     : FileError(file_name, cert.status().message());
  }
  if (use == "jwt-svid") {
    absl::StatusOr<JwtPublicKey> jwk = ParseJwk(key.dump());
    if (!jwk.ok() || jwk->kid.empty()) {
      return FileError(file_name, jwk.ok() ? "a jwt-svid key needs a kid" : jwk.status().message());
    }
    bundle.jwt_keys.push_back(*std::move(jwk));
  }
  // The SPIFFE bundle format says to ignore keys of other uses.
  return absl::OkStatus();
}

// A SPIFFE bundle (the SPIFFE Trust Domain and Bundle format): a JWKS whose
// keys are `x509-svid` CA certificates and `jwt-svid` JWT authorities.
absl::Status ParseSpiffeBundle(TrustBundle& bundle, std::string_view text,
                               const std::string& file_name) {
  Json document = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object() || !document.contains("keys") || !document["keys"].is_array()) {
    return FileError(file_name, "not a SPIFFE bundle: a JSON object with a keys list");
  }
  for (const Json& key : document["keys"]) {
    if (!key.is_object()) {
      return FileError(file_name, "every key must be a JSON object");
    }
    if (absl::Status status = ParseSpiffeKey(bundle, key, file_name); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const TrustBundle>> ParseBundleFile(std::string_view trust_domain_id,
                                                                   std::string_view text,
                                                                   const std::string& file_name) {
  auto bundle = std::make_shared<TrustBundle>();
  bundle->trust_domain_id = std::string(trust_domain_id);
  bool json = Trim(text).starts_with("{");
  absl::Status parsed =
      json ? ParseSpiffeBundle(*bundle, text, file_name) : ParsePem(*bundle, text, file_name);
  if (!parsed.ok()) {
    return parsed;
  }
  if (bundle->x509_der.empty() && bundle->jwt_keys.empty()) {
    return FileError(file_name, "the bundle holds no keys");
  }
  absl::StatusOr<std::string> jwks = RenderJwks(bundle->jwt_keys);
  if (!jwks.ok()) {
    return jwks.status();
  }
  bundle->jwks = *std::move(jwks);
  return std::shared_ptr<const TrustBundle>(std::move(bundle));
}

BundleFiles ReadBundleFiles(const std::map<std::string, std::string>& files,
                            const BundleFiles& previous, std::vector<absl::Status>& errors) {
  BundleFiles read;
  for (const auto& [id, path] : files) {
    absl::StatusOr<std::string> text = ReadSmallFile(path);
    auto last_text = previous.texts.find(id);
    if (text.ok() && last_text != previous.texts.end() && last_text->second == *text) {
      read.bundles[id] = previous.bundles.at(id);
      read.texts[id] = *std::move(text);
      continue;
    }
    absl::StatusOr<std::shared_ptr<const TrustBundle>> bundle =
        text.ok() ? ParseBundleFile(id, *text, path) : text.status();
    if (bundle.ok()) {
      read.bundles[id] = *std::move(bundle);
      read.texts[id] = *std::move(text);
      continue;
    }
    errors.push_back(bundle.status());
    if (last_text != previous.texts.end()) {
      read.bundles[id] = previous.bundles.at(id);
      read.texts[id] = last_text->second;
    }
  }
  return read;
}

}  // namespace reattest::identity
