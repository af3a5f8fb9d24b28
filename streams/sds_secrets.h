// What a workload may see, as Envoy SDS secrets (SPEC section 4). Resource
// names: a SPIFFE ID (that SVID as a tls_certificate), a trust domain ID
// (`spiffe://example.org`: that bundle as a validation_context), and the
// aliases of `sds` config: the default SVID (`default`, the first matching
// entry), the own trust domain's bundle (`ROOTCA`) and every bundle
// (`ALL`). A secret's name is exactly the name asked for, so asking for a
// name and its alias returns two secrets.
//
// Built per use from a WorkloadIdentity; it only reads the snapshot it
// shares. Any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "streams/sds_xds.h"
#include "supervisor/config.h"
#include "supervisor/stream_sink.h"

namespace reattest::streams {

using envoy::extensions::transport_sockets::tls::v3::Secret;

// The type URL of every SDS resource and response.
inline constexpr char kSecretTypeUrl[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
// The name Envoy knows its SPIFFE certificate validator by.
inline constexpr char kSpiffeValidatorName[] = "envoy.tls.cert_validator.spiffe";

class SecretCatalog {
 public:
  // `spiffe_validation` false (sds.disable_spiffe_cert_validation, globally
  // or for one Envoy) puts bundles in trusted_ca instead of the SPIFFE
  // validator's config.
  SecretCatalog(const supervisor::WorkloadIdentity& identity, const supervisor::SdsConfig& config,
                bool spiffe_validation);

  // The secret called `name`, or nullopt when the workload does not have it
  // (yet).
  std::optional<Secret> Find(const std::string& name) const;
  // What empty resource_names means: every SVID by SPIFFE ID (entries-file
  // order), then every bundle by trust domain ID. No aliases.
  std::vector<std::string> WildcardNames() const;
  // Find() of each name, serialized, in the order given, each name once;
  // names the workload lacks are left out.
  ResourceList Resolve(const std::vector<std::string>& names) const;

 private:
  struct Bundle {
    std::string trust_domain_id;  // spiffe://example.org
    std::string der;
  };

  std::vector<Bundle> VisibleBundles() const;
  std::optional<Secret> SvidSecret(const std::string& name, const std::string& spiffe_id) const;
  std::optional<Secret> BundleSecret(const std::string& name,
                                     const std::vector<Bundle>& bundles) const;

  const supervisor::WorkloadIdentity& identity_;
  const supervisor::SdsConfig& config_;
  const bool spiffe_validation_;
};

}  // namespace reattest::streams
