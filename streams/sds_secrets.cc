#include "streams/sds_secrets.h"

#include <set>

#include "common/log.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls_spiffe_validator_config.pb.h"
#include "identity/local/x509_util.h"
#include "identity/trust.h"
#include "streams/serialize.h"

namespace reattest::streams {
namespace {

using envoy::extensions::transport_sockets::tls::v3::SPIFFECertValidatorConfig;

const log::Logger kLog("sds");

constexpr std::string_view kSpiffeScheme = "spiffe://";

// Our own DER never fails to convert; if it did, the secret is left out
// (as if missing) rather than sent broken.
std::optional<std::string> Pem(absl::StatusOr<std::string> pem, std::string_view name) {
  if (!pem.ok()) {
    kLog.Error("cannot render secret, leaving it out",
               {{"name", name}, {"error", std::string(pem.status().message())}});
    return std::nullopt;
  }
  return *std::move(pem);
}

}  // namespace

SecretCatalog::SecretCatalog(const supervisor::WorkloadIdentity& identity,
                             const supervisor::SdsConfig& config, bool spiffe_validation)
    : identity_(identity), config_(config), spiffe_validation_(spiffe_validation) {}

std::optional<Secret> SecretCatalog::Find(const std::string& name) const {
  if (!identity_.snapshot || name.empty()) {
    return std::nullopt;
  }
  if (name == config_.default_svid_name) {
    return SvidSecret(name, "");
  }
  std::vector<Bundle> bundles = VisibleBundles();
  if (name == config_.default_all_bundles_name) {
    return BundleSecret(name, bundles);
  }
  if (name == config_.default_bundle_name) {
    bundles.resize(std::min<size_t>(bundles.size(), 1));  // the own trust domain's comes first
    return BundleSecret(name, bundles);
  }
  for (const Bundle& bundle : bundles) {
    if (bundle.trust_domain_id == name) {
      return BundleSecret(name, {bundle});
    }
  }
  return SvidSecret(name, name);
}

std::vector<std::string> SecretCatalog::WildcardNames() const {
  std::vector<std::string> names;
  if (!identity_.snapshot) {
    return names;
  }
  for (size_t index : identity_.matched) {
    names.push_back(identity_.snapshot->svids[index]->spiffe_id.str());
  }
  for (const Bundle& bundle : VisibleBundles()) {
    names.push_back(bundle.trust_domain_id);
  }
  return names;
}

ResourceList SecretCatalog::Resolve(const std::vector<std::string>& names) const {
  ResourceList resources;
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) {
      continue;
    }
    if (std::optional<Secret> secret = Find(name)) {
      resources.push_back({name, SerializeDeterministic(*secret)});
    }
  }
  return resources;
}

// The own trust domain's bundle first.
std::vector<SecretCatalog::Bundle> SecretCatalog::VisibleBundles() const {
  const identity::IdentitySnapshot& snapshot = *identity_.snapshot;
  std::vector<Bundle> bundles;
  if (!snapshot.bundle_der.empty()) {
    bundles.push_back({std::string(kSpiffeScheme) + snapshot.trust_domain, snapshot.bundle_der});
  }
  // Then the trust domains its entries federate with, by trust domain ID.
  for (const identity::TrustBundle* federated :
       identity::FederatedFor(snapshot, identity_.matched)) {
    if (!federated->x509_der.empty()) {
      bundles.push_back({federated->trust_domain_id, federated->x509_der});
    }
  }
  return bundles;
}

// `spiffe_id` empty: the default SVID, the first matching entry's.
std::optional<Secret> SecretCatalog::SvidSecret(const std::string& name,
                                                const std::string& spiffe_id) const {
  for (size_t index : identity_.matched) {
    const identity::X509Svid& svid = *identity_.snapshot->svids[index];
    if (!spiffe_id.empty() && svid.spiffe_id.str() != spiffe_id) {
      continue;
    }
    std::optional<std::string> chain =
        Pem(identity::CertificatesDerToPem(svid.cert_chain_der), name);
    std::optional<std::string> key = Pem(identity::PrivateKeyDerToPem(svid.private_key_der), name);
    if (!chain || !key) {
      return std::nullopt;
    }
    Secret secret;
    secret.set_name(name);
    auto* certificate = secret.mutable_tls_certificate();
    certificate->mutable_certificate_chain()->set_inline_bytes(*chain);
    certificate->mutable_private_key()->set_inline_bytes(*key);
    return secret;
  }
  return std::nullopt;
}

std::optional<Secret> SecretCatalog::BundleSecret(const std::string& name,
                                                  const std::vector<Bundle>& bundles) const {
  if (bundles.empty()) {
    return std::nullopt;
  }
  Secret secret;
  secret.set_name(name);
  auto* context = secret.mutable_validation_context();
  SPIFFECertValidatorConfig validator;
  std::string all_pem;
  for (const Bundle& bundle : bundles) {
    std::optional<std::string> pem = Pem(identity::CertificatesDerToPem(bundle.der), name);
    if (!pem) {
      return std::nullopt;
    }
    all_pem += *pem;
    auto* trust_domain = validator.add_trust_domains();
    trust_domain->set_name(bundle.trust_domain_id.substr(kSpiffeScheme.size()));
    trust_domain->mutable_trust_bundle()->set_inline_bytes(*pem);
  }
  if (!spiffe_validation_) {
    context->mutable_trusted_ca()->set_inline_bytes(all_pem);
    return secret;
  }
  auto* custom = context->mutable_custom_validator_config();
  custom->set_name(kSpiffeValidatorName);
  custom->mutable_typed_config()->PackFrom(validator);
  return secret;
}

}  // namespace reattest::streams
