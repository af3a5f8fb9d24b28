// End to end: Envoy SDS v3 on the agent's socket (SPEC section 4), driven
// by an Envoy-like client through the built binary.
#include <signal.h>

#include <catch2/catch.hpp>
#include <set>

#include "envoy/extensions/transport_sockets/tls/v3/tls_spiffe_validator_config.pb.h"
#include "tests/support/agent_fixture.h"
#include "tests/support/sds_client.h"
#include "tests/support/x509_check.h"

namespace reattest::testing {
namespace {

using envoy::extensions::transport_sockets::tls::v3::SPIFFECertValidatorConfig;
using Names = std::vector<std::string>;

const std::string kRootEntries = EntriesYaml({{"/root", "unix:uid:0"}});
const std::string kTwoEntries = EntriesYaml({{"/root", "unix:uid:0"}, {"/second", "unix:gid:0"}});

// The next response, which must arrive, of either protocol.
template <typename Client>
auto NextOf(Client& client) {
  auto response = client.Next();
  REQUIRE(response);
  CHECK(response->type_url() == kSecretType);
  CHECK_FALSE(response->nonce().empty());
  return *response;
}

discovery::DiscoveryResponse NextResponse(SotwSdsClient& client) { return NextOf(client); }

const Secret& Named(const std::vector<Secret>& secrets, const std::string& name) {
  for (const Secret& secret : secrets) {
    if (secret.name() == name) {
      return secret;
    }
  }
  FAIL("no secret named " << name);
  throw std::logic_error("unreachable");
}

// The PEM bundle of a validation context that uses the SPIFFE validator for
// exactly one trust domain, example.org.
std::string SpiffeBundle(const Secret& secret) {
  const auto& validator = secret.validation_context().custom_validator_config();
  CHECK(validator.name() == "envoy.tls.cert_validator.spiffe");
  SPIFFECertValidatorConfig config;
  REQUIRE(validator.typed_config().UnpackTo(&config));
  REQUIRE(config.trust_domains_size() == 1);
  CHECK(config.trust_domains(0).name() == "example.org");
  return config.trust_domains(0).trust_bundle().inline_bytes();
}

class SdsFixture {
 public:
  explicit SdsFixture(const std::string& entries, const std::string& extra_config = "")
      : fixture_(entries, extra_config), agent_(fixture_.Start()) {
    REQUIRE(agent_->ready());
  }
  const std::string& socket() const { return fixture_.socket(); }
  void WriteEntries(const std::string& entries) const {
    fixture_.dir().Write("entries.yaml", entries);
  }
  AgentProcess& process() { return *agent_; }

 private:
  AgentFixture fixture_;
  std::unique_ptr<AgentProcess> agent_;
};

TEST_CASE("default and ROOTCA come at once: an SVID that chains to the SPIFFE-validated bundle",
          "[e2e][sds]") {
  SdsFixture agent(kRootEntries);
  SotwSdsClient client(agent.socket());
  client.Subscribe({"default", "ROOTCA"});

  std::vector<Secret> secrets = SecretsOf(NextResponse(client));
  REQUIRE(NamesOf(secrets) == Names{"default", "ROOTCA"});
  const auto& certificate = secrets[0].tls_certificate();
  SvidCheck check =
      CheckPemSvid(certificate.certificate_chain().inline_bytes(),
                   certificate.private_key().inline_bytes(), SpiffeBundle(secrets[1]));
  INFO(check.error);
  CHECK(check.chains_to_bundle);
  CHECK(check.uri_san == "spiffe://example.org/root");
  CHECK(check.key_matches);
}

TEST_CASE("A name and its alias are both returned, each named as asked", "[e2e][sds]") {
  SdsFixture agent(kRootEntries);
  SotwSdsClient client(agent.socket());
  Names names = {"default", "spiffe://example.org/root", "ROOTCA", "spiffe://example.org", "ALL"};
  client.Subscribe(names);

  std::vector<Secret> secrets = SecretsOf(NextResponse(client));
  CHECK(NamesOf(secrets) == names);
  CHECK(Named(secrets, "default").tls_certificate().SerializeAsString() ==
        Named(secrets, "spiffe://example.org/root").tls_certificate().SerializeAsString());
  CHECK(SpiffeBundle(Named(secrets, "ROOTCA")) == SpiffeBundle(Named(secrets, "ALL")));
}

TEST_CASE("Empty resource names get every SVID and bundle by ID, without aliases", "[e2e][sds]") {
  SdsFixture agent(kTwoEntries);
  SotwSdsClient client(agent.socket());
  client.Subscribe({});

  CHECK(NamesOf(SecretsOf(NextResponse(client))) ==
        Names{"spiffe://example.org/root", "spiffe://example.org/second", "spiffe://example.org"});
}

TEST_CASE("SPIFFE validation can be turned off globally or by one Envoy's node metadata",
          "[e2e][sds]") {
  bool global = GENERATE(true, false);
  SdsFixture agent(kRootEntries, global ? "sds: {disable_spiffe_cert_validation: true}\n" : "");
  SotwSdsClient client(agent.socket(),
                       global ? google::protobuf::Struct() : DisableValidationMetadata());
  client.Subscribe({"ROOTCA"});

  std::vector<Secret> secrets = SecretsOf(NextResponse(client));
  REQUIRE(secrets.size() == 1);
  const auto& context = secrets[0].validation_context();
  CHECK_FALSE(context.has_custom_validator_config());
  CHECK(context.trusted_ca().inline_bytes().starts_with("-----BEGIN CERTIFICATE-----"));
}

TEST_CASE("The alias names are configurable", "[e2e][sds]") {
  SdsFixture agent(kRootEntries, "sds: {default_svid_name: svid, default_bundle_name: roots}\n");
  SotwSdsClient client(agent.socket());
  client.Subscribe({"svid", "roots", "default"});

  CHECK(NamesOf(SecretsOf(NextResponse(client))) == Names{"svid", "roots"});
}

TEST_CASE("After an ACK only a change is sent, with a new version", "[e2e][sds]") {
  SdsFixture agent(kRootEntries);
  SotwSdsClient client(agent.socket());
  client.Subscribe({});
  discovery::DiscoveryResponse first = NextResponse(client);
  client.Ack(first);

  agent.WriteEntries(kTwoEntries);
  // The next message is the change: the ACK itself was not answered.
  discovery::DiscoveryResponse pushed = NextResponse(client);
  CHECK(pushed.version_info() != first.version_info());
  CHECK(pushed.nonce() != first.nonce());
  CHECK(NamesOf(SecretsOf(pushed)) ==
        Names{"spiffe://example.org/root", "spiffe://example.org/second", "spiffe://example.org"});
}

TEST_CASE("A NACK is not answered and the rejected version is not sent again", "[e2e][sds]") {
  SdsFixture agent(kRootEntries);
  SotwSdsClient client(agent.socket());
  client.Subscribe({"default", "ROOTCA"});
  discovery::DiscoveryResponse rejected = NextResponse(client);
  client.Nack(rejected);
  // Re-attestation or a rewrite that changes nothing must not resend it either.
  agent.WriteEntries(kRootEntries + "\n");

  agent.WriteEntries(EntriesYaml({{"/other", "unix:uid:0"}}));
  discovery::DiscoveryResponse next = NextResponse(client);
  CHECK(next.version_info() != rejected.version_info());
}

TEST_CASE("A request with a stale nonce is ignored", "[e2e][sds]") {
  SdsFixture agent(kRootEntries);
  SotwSdsClient client(agent.socket());
  client.Subscribe({"default"});
  discovery::DiscoveryResponse first = NextResponse(client);
  client.Ack(first);
  agent.WriteEntries(EntriesYaml({{"/renamed", "unix:uid:0"}}));
  discovery::DiscoveryResponse second = NextResponse(client);

  // Names ROOTCA, answering the first response: ignored. Had it been taken,
  // ROOTCA would be answered and the next request would be the stale one.
  discovery::DiscoveryRequest stale;
  stale.set_type_url(kSecretType);
  stale.set_version_info(first.version_info());
  stale.set_response_nonce(first.nonce());
  stale.add_resource_names("ROOTCA");
  client.Send(stale);
  discovery::DiscoveryRequest current = stale;
  current.set_response_nonce(second.nonce());
  current.set_resource_names(0, "spiffe://example.org");
  client.Send(current);

  CHECK(NamesOf(SecretsOf(NextResponse(client))) == Names{"spiffe://example.org"});
}

TEST_CASE("Changing resource names mid-stream is answered at once", "[e2e][sds]") {
  SdsFixture agent(kRootEntries);
  SotwSdsClient client(agent.socket());
  client.Subscribe({"default"});
  client.Ack(NextResponse(client));

  client.ChangeNames({"ROOTCA", "spiffe://example.org/root"});
  CHECK(NamesOf(SecretsOf(NextResponse(client))) == Names{"ROOTCA", "spiffe://example.org/root"});
}

TEST_CASE("A name the workload lacks is left out and pushed when an entry gives it", "[e2e][sds]") {
  SdsFixture agent(kRootEntries);
  SotwSdsClient client(agent.socket());
  client.Subscribe({"spiffe://example.org/later", "ROOTCA"});
  discovery::DiscoveryResponse first = NextResponse(client);
  CHECK(NamesOf(SecretsOf(first)) == Names{"ROOTCA"});
  client.Ack(first);

  agent.WriteEntries(EntriesYaml({{"/root", "unix:uid:0"}, {"/later", "unix:uid:0"}}));
  discovery::DiscoveryResponse pushed = NextResponse(client);
  CHECK(NamesOf(SecretsOf(pushed)) == Names{"spiffe://example.org/later", "ROOTCA"});
  CHECK(pushed.version_info() != first.version_info());
}

TEST_CASE("A workload with no identity gets its bundle, and its SVID once an entry appears",
          "[e2e][sds]") {
  SdsFixture agent(EntriesYaml({{"/someone-else", "unix:uid:4321"}}));
  SotwSdsClient client(agent.socket());
  client.Subscribe({"default", "ROOTCA"});
  discovery::DiscoveryResponse first = NextResponse(client);
  CHECK(NamesOf(SecretsOf(first)) == Names{"ROOTCA"});
  client.Ack(first);

  agent.WriteEntries(kRootEntries);
  CHECK(NamesOf(SecretsOf(NextResponse(client))) == Names{"default", "ROOTCA"});
}

TEST_CASE("A reconnecting client with its old version and no nonce is answered", "[e2e][sds]") {
  SdsFixture agent(kRootEntries);
  std::string version;
  {
    SotwSdsClient first(agent.socket());
    first.Subscribe({"default", "ROOTCA"});
    discovery::DiscoveryResponse response = NextResponse(first);
    first.Ack(response);
    version = response.version_info();
  }
  SotwSdsClient again(agent.socket());
  again.Subscribe({"default", "ROOTCA"}, version);
  discovery::DiscoveryResponse response = NextResponse(again);
  CHECK(response.version_info() == version);
  CHECK(NamesOf(SecretsOf(response)) == Names{"default", "ROOTCA"});
}

TEST_CASE("An unsupported type URL ends the stream with InvalidArgument", "[e2e][sds]") {
  SdsFixture agent(kRootEntries);
  SotwSdsClient client(agent.socket());
  discovery::DiscoveryRequest request;
  request.set_type_url("type.googleapis.com/envoy.config.cluster.v3.Cluster");
  client.Send(request);
  CHECK(client.Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("SIGTERM ends open SDS streams with Unavailable", "[e2e][sds][shutdown]") {
  SdsFixture agent(kRootEntries);
  SotwSdsClient sotw(agent.socket());
  sotw.Subscribe({"default"});
  REQUIRE(sotw.Next());
  DeltaSdsClient delta(agent.socket());
  delta.Subscribe({"ROOTCA"});
  REQUIRE(delta.Next());

  agent.process().Signal(SIGTERM);
  for (grpc::Status status : {sotw.Finish(), delta.Finish()}) {
    CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
    CHECK(status.error_message() == "agent shutting down");
  }
  CHECK(agent.process().WaitExit() == 0);
}

// --- DeltaSecrets --------------------------------------------------------------

std::map<std::string, std::string> Versions(const discovery::DeltaDiscoveryResponse& response) {
  std::map<std::string, std::string> versions;
  for (const discovery::Resource& resource : response.resources()) {
    versions[resource.name()] = resource.version();
  }
  return versions;
}

Names Removed(const discovery::DeltaDiscoveryResponse& response) {
  return {response.removed_resources().begin(), response.removed_resources().end()};
}

discovery::DeltaDiscoveryResponse NextDelta(DeltaSdsClient& client) { return NextOf(client); }

TEST_CASE("Delta: subscribe, unsubscribe, and removal when an entry is deleted",
          "[e2e][sds][delta]") {
  SdsFixture agent(kRootEntries);
  DeltaSdsClient client(agent.socket());
  client.Subscribe({"default", "ROOTCA"});
  discovery::DeltaDiscoveryResponse first = NextDelta(client);
  // Incremental xDS has no order; the secrets' names are the resources'.
  std::vector<Secret> secrets = SecretsOf(first);
  Names names = NamesOf(secrets);
  CHECK(std::set<std::string>(names.begin(), names.end()) ==
        std::set<std::string>{"default", "ROOTCA"});
  for (const discovery::Resource& resource : first.resources()) {
    CHECK(resource.name() == Named(secrets, resource.name()).name());
    CHECK_FALSE(resource.version().empty());
  }

  client.Ack(first, {"spiffe://example.org/root"}, {"ROOTCA"});
  discovery::DeltaDiscoveryResponse added = NextDelta(client);
  CHECK(NamesOf(SecretsOf(added)) == Names{"spiffe://example.org/root"});
  CHECK(Removed(added).empty());
  client.Ack(added);

  agent.WriteEntries("entries: []\n");
  discovery::DeltaDiscoveryResponse removed = NextDelta(client);
  CHECK(removed.resources().empty());
  CHECK(Removed(removed) == Names{"default", "spiffe://example.org/root"});
}

TEST_CASE("Delta: a wildcard subscription is sent only what changed", "[e2e][sds][delta]") {
  SdsFixture agent(kRootEntries);
  DeltaSdsClient client(agent.socket());
  client.Subscribe({});
  discovery::DeltaDiscoveryResponse first = NextDelta(client);
  CHECK(NamesOf(SecretsOf(first)) == Names{"spiffe://example.org/root", "spiffe://example.org"});
  client.Ack(first);

  agent.WriteEntries(kTwoEntries);
  discovery::DeltaDiscoveryResponse pushed = NextDelta(client);
  CHECK(NamesOf(SecretsOf(pushed)) == Names{"spiffe://example.org/second"});
}

TEST_CASE("Delta: a reconnecting client is sent only what it lacks", "[e2e][sds][delta]") {
  SdsFixture agent(kRootEntries);
  std::map<std::string, std::string> had;
  {
    DeltaSdsClient first(agent.socket());
    first.Subscribe({"default"});
    had = Versions(NextDelta(first));
  }
  DeltaSdsClient again(agent.socket());
  again.Subscribe({"default", "ROOTCA"}, had);
  CHECK(NamesOf(SecretsOf(NextDelta(again))) == Names{"ROOTCA"});
}

// --- FetchSecrets --------------------------------------------------------------

TEST_CASE("FetchSecrets returns the current secrets for the names asked", "[e2e][sds]") {
  SdsFixture agent(kRootEntries);
  discovery::DiscoveryResponse response;

  SECTION("named") {
    grpc::Status status =
        FetchSecrets(agent.socket(), {"default", "ROOTCA", "spiffe://example.org/none"}, response);
    REQUIRE(status.ok());
    CHECK(NamesOf(SecretsOf(response)) == Names{"default", "ROOTCA"});
  }
  SECTION("all") {
    REQUIRE(FetchSecrets(agent.socket(), {}, response).ok());
    CHECK(NamesOf(SecretsOf(response)) ==
          Names{"spiffe://example.org/root", "spiffe://example.org"});
  }
  CHECK_FALSE(response.version_info().empty());
}

}  // namespace
}  // namespace reattest::testing
