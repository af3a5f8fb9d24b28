#include "identity/trust_bundle.h"

#include "common/process.h"
#include "common/strings.h"
#include "identity/local/x509_util.h"

namespace reattest::identity {

absl::StatusOr<std::shared_ptr<const TrustBundle>> ParseBundlePem(std::string_view trust_domain_id,
                                                                  std::string_view pem,
                                                                  const std::string& file_name) {
  absl::StatusOr<std::vector<X509Ptr>> certs = ParseCertificatesPem(pem);
  if (!certs.ok()) {
    return absl::InvalidArgumentError(Concat(file_name, ": ", certs.status().message()));
  }
  auto bundle = std::make_shared<TrustBundle>();
  bundle->trust_domain_id = std::string(trust_domain_id);
  for (const X509Ptr& cert : *certs) {
    // A leaf in a bundle would be trusted to sign SVIDs: refuse the file.
    if ((X509_get_extension_flags(cert.get()) & EXFLAG_CA) == 0) {
      return absl::InvalidArgumentError(
          Concat(file_name, ": holds a certificate that is not a CA (basicConstraints CA:TRUE)"));
    }
    absl::StatusOr<std::string> der = CertificateDer(*cert);
    if (!der.ok()) {
      return der.status();
    }
    bundle->x509_der += *der;
  }
  absl::StatusOr<std::string> jwks = RenderJwks({});
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
        text.ok() ? ParseBundlePem(id, *text, path) : text.status();
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
