// Rendering a workload's identities as Envoy SDS secrets (SPEC section 4):
// names, aliases, tls_certificate and validation contexts.
#include "streams/sds_secrets.h"

#include <catch2/catch.hpp>

#include "envoy/extensions/transport_sockets/tls/v3/tls_spiffe_validator_config.pb.h"
#include "identity/local/local_ca.h"
#include "identity/local/x509_util.h"
#include "identity/snapshot.h"
#include "identity/trust.h"
#include "streams/sds_stream.h"
#include "tests/unit/temp_dir.h"

namespace reattest::streams {
namespace {

using envoy::extensions::transport_sockets::tls::v3::SPIFFECertValidatorConfig;
using std::chrono::hours;

identity::Entry MakeEntry(std::string_view id, std::string selector) {
  return identity::Entry{.spiffe_id = *SpiffeId::Parse(id), .selectors = {std::move(selector)}};
}

// A workload with the selector `unix:uid:0` under entries for /db (another
// workload), /web and /admin (both its own, in that order).
class SecretsFixture {
 public:
  SecretsFixture() {
    auto ca = identity::LocalCa::LoadOrCreate(dir_.Join("data"), "example.org", hours(24));
    REQUIRE(ca.ok());
    auto snapshot = identity::BuildSnapshot(**ca,
                                            {MakeEntry("spiffe://example.org/db", "unix:uid:1001"),
                                             MakeEntry("spiffe://example.org/web", "unix:uid:0"),
                                             MakeEntry("spiffe://example.org/admin", "unix:uid:0")},
                                            nullptr, hours(1), std::chrono::system_clock::now());
    REQUIRE(snapshot.ok());
    identity_.snapshot = *snapshot;
    identity_.matched = identity::MatchEntries(**snapshot, {"unix:uid:0"});
  }

  SecretCatalog Catalog(bool spiffe_validation = true) const {
    return SecretCatalog(identity_, config_, spiffe_validation);
  }
  std::string BundlePem() const {
    return *identity::CertificatesDerToPem(identity_.snapshot->bundle_der);
  }

 protected:
  testing::TempDir dir_;
  supervisor::WorkloadIdentity identity_;
  supervisor::SdsConfig config_;
};

std::vector<std::string> NamesOf(const ResourceList& resources) {
  std::vector<std::string> names;
  for (const NamedResource& resource : resources) {
    names.push_back(resource.name);
  }
  return names;
}

// The URI SAN of the leaf of a PEM chain.
std::string LeafUri(const std::string& pem) {
  auto certs = identity::ParseCertificatesPem(pem);
  REQUIRE(certs.ok());
  std::vector<std::string> uris = identity::UriSans(*certs->front());
  return uris.size() == 1 ? uris[0] : "";
}

TEST_CASE_METHOD(SecretsFixture, "A SPIFFE ID names that SVID as a PEM tls_certificate",
                 "[sds][secrets]") {
  std::optional<Secret> secret = Catalog().Find("spiffe://example.org/admin");
  REQUIRE(secret);
  CHECK(secret->name() == "spiffe://example.org/admin");
  REQUIRE(secret->has_tls_certificate());
  const auto& certificate = secret->tls_certificate();
  CHECK(LeafUri(certificate.certificate_chain().inline_bytes()) == "spiffe://example.org/admin");
  const std::string& key = certificate.private_key().inline_bytes();
  CHECK(key.starts_with("-----BEGIN PRIVATE KEY-----"));
  CHECK(identity::ParsePrivateKeyPem(key).ok());
}

TEST_CASE_METHOD(SecretsFixture, "default is the first matching entry's SVID, named default",
                 "[sds][secrets]") {
  std::optional<Secret> secret = Catalog().Find("default");
  REQUIRE(secret);
  CHECK(secret->name() == "default");
  CHECK(LeafUri(secret->tls_certificate().certificate_chain().inline_bytes()) ==
        "spiffe://example.org/web");
}

TEST_CASE_METHOD(SecretsFixture, "Asking for a name and its alias returns both", "[sds][secrets]") {
  ResourceList resources =
      Catalog().Resolve({"default", "spiffe://example.org/web", "ROOTCA", "spiffe://example.org"});
  CHECK(NamesOf(resources) == std::vector<std::string>{"default", "spiffe://example.org/web",
                                                       "ROOTCA", "spiffe://example.org"});
}

TEST_CASE_METHOD(SecretsFixture, "A name asked twice is returned once", "[sds][secrets]") {
  CHECK(NamesOf(Catalog().Resolve({"ROOTCA", "ROOTCA"})) == std::vector<std::string>{"ROOTCA"});
}

TEST_CASE_METHOD(SecretsFixture, "Bundles use the SPIFFE validator with bare trust domain names",
                 "[sds][secrets]") {
  std::string name = GENERATE("ROOTCA", "ALL", "spiffe://example.org");
  std::optional<Secret> secret = Catalog().Find(name);
  REQUIRE(secret);
  CHECK(secret->name() == name);
  REQUIRE(secret->has_validation_context());
  const auto& context = secret->validation_context();
  CHECK_FALSE(context.has_trusted_ca());
  CHECK(context.custom_validator_config().name() == "envoy.tls.cert_validator.spiffe");
  SPIFFECertValidatorConfig validator;
  REQUIRE(context.custom_validator_config().typed_config().UnpackTo(&validator));
  REQUIRE(validator.trust_domains_size() == 1);
  CHECK(validator.trust_domains(0).name() == "example.org");
  CHECK(validator.trust_domains(0).trust_bundle().inline_bytes() == BundlePem());
}

TEST_CASE_METHOD(SecretsFixture, "Without SPIFFE validation bundles are a trusted_ca",
                 "[sds][secrets]") {
  std::optional<Secret> secret = Catalog(/*spiffe_validation=*/false).Find("ROOTCA");
  REQUIRE(secret);
  const auto& context = secret->validation_context();
  CHECK_FALSE(context.has_custom_validator_config());
  CHECK(context.trusted_ca().inline_bytes() == BundlePem());
}

TEST_CASE_METHOD(SecretsFixture, "The wildcard is every SVID and bundle by ID, no aliases",
                 "[sds][secrets]") {
  CHECK(Catalog().WildcardNames() == std::vector<std::string>{"spiffe://example.org/web",
                                                              "spiffe://example.org/admin",
                                                              "spiffe://example.org"});
}

TEST_CASE_METHOD(SecretsFixture,
                 "ALL and the wildcard add the bundles the workload's entries federate with",
                 "[sds][secrets]") {
  auto partner_ca = identity::LocalCa::LoadOrCreate(dir_.Join("partner"), "partner.org", hours(24));
  REQUIRE(partner_ca.ok());
  auto partner = identity::BuildSnapshot(**partner_ca, {}, nullptr, hours(1),
                                         std::chrono::system_clock::now());
  REQUIRE(partner.ok());
  auto bundle = std::make_shared<identity::TrustBundle>();
  bundle->trust_domain_id = "spiffe://partner.org";
  bundle->x509_der = (*partner)->bundle_der;
  identity::IdentitySnapshot federating = *identity_.snapshot;
  federating.entries[2].federates_with = {"spiffe://partner.org"};  // /admin, one of ours
  identity_.snapshot =
      identity::WithTrust(federating, nullptr, {{bundle->trust_domain_id, bundle}});

  CHECK(Catalog().WildcardNames() ==
        std::vector<std::string>{"spiffe://example.org/web", "spiffe://example.org/admin",
                                 "spiffe://example.org", "spiffe://partner.org"});
  CHECK(Catalog().Find("spiffe://partner.org"));
  std::optional<Secret> all = Catalog().Find("ALL");
  REQUIRE(all);
  SPIFFECertValidatorConfig validator;
  REQUIRE(all->validation_context().custom_validator_config().typed_config().UnpackTo(&validator));
  REQUIRE(validator.trust_domains_size() == 2);
  CHECK(validator.trust_domains(0).name() == "example.org");
  CHECK(validator.trust_domains(1).name() == "partner.org");
  // ROOTCA stays the own trust domain's alone.
  REQUIRE(Catalog()
              .Find("ROOTCA")
              ->validation_context()
              .custom_validator_config()
              .typed_config()
              .UnpackTo(&validator));
  CHECK(validator.trust_domains_size() == 1);
}

TEST_CASE_METHOD(SecretsFixture, "Names the workload does not have are left out",
                 "[sds][secrets]") {
  CHECK_FALSE(Catalog().Find("spiffe://example.org/db"));
  CHECK_FALSE(Catalog().Find("spiffe://partner.org"));
  CHECK_FALSE(Catalog().Find(""));
  CHECK(NamesOf(Catalog().Resolve({"spiffe://example.org/db", "ROOTCA"})) ==
        std::vector<std::string>{"ROOTCA"});
}

TEST_CASE_METHOD(SecretsFixture, "A workload without identities still gets its bundles",
                 "[sds][secrets]") {
  identity_.matched.clear();
  CHECK_FALSE(Catalog().Find("default"));
  CHECK(Catalog().Find("ROOTCA"));
  CHECK(Catalog().WildcardNames() == std::vector<std::string>{"spiffe://example.org"});
}

TEST_CASE_METHOD(SecretsFixture, "The alias names come from the sds config", "[sds][secrets]") {
  config_.default_svid_name = "svid";
  config_.default_bundle_name = "bundle";
  CHECK(Catalog().Find("svid"));
  CHECK(Catalog().Find("bundle"));
  CHECK_FALSE(Catalog().Find("default"));
  CHECK_FALSE(Catalog().Find("ROOTCA"));
}

TEST_CASE("Node metadata can turn SPIFFE validation off for one Envoy", "[sds][secrets]") {
  envoy::config::core::v3::Node node;
  CHECK_FALSE(NodeDisablesSpiffeValidation(node));
  auto& fields = *node.mutable_metadata()->mutable_fields();
  fields["disable_spiffe_cert_validation"].set_bool_value(true);
  CHECK(NodeDisablesSpiffeValidation(node));
  fields["disable_spiffe_cert_validation"].set_string_value("true");
  CHECK(NodeDisablesSpiffeValidation(node));
  fields["disable_spiffe_cert_validation"].set_bool_value(false);
  CHECK_FALSE(NodeDisablesSpiffeValidation(node));
}

}  // namespace
}  // namespace reattest::streams
