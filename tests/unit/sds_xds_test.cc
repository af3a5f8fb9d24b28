// The xDS bookkeeping of SDS streams (SPEC section 4) without gRPC: which
// requests are answered, versions and nonces, incremental subscriptions.
#include "streams/sds_xds.h"

#include <catch2/catch.hpp>

namespace reattest::streams {
namespace {

using Kind = SotwSubscription::RequestKind;

const ResourceList kWeb = {{"spiffe://example.org/web", "web-v1"}};
const ResourceList kWebRotated = {{"spiffe://example.org/web", "web-v2"}};

SotwRequest Subscribe(std::vector<std::string> names, std::string version = "") {
  return SotwRequest{std::move(names), std::move(version), "", false};
}

SotwRequest Ack(const SotwResponse& response, std::vector<std::string> names) {
  return SotwRequest{std::move(names), response.version, response.nonce, false};
}

SotwRequest Nack(const SotwResponse& response, std::vector<std::string> names) {
  return SotwRequest{std::move(names), "", response.nonce, true};
}

// A subscription to the web SVID whose first response has been sent.
std::pair<SotwSubscription, SotwResponse> Answered() {
  SotwSubscription subscription;
  subscription.OnRequest(Subscribe({"spiffe://example.org/web"}));
  std::optional<SotwResponse> first = subscription.Offer(kWeb);
  REQUIRE(first);
  return {subscription, *first};
}

TEST_CASE("Versions follow content only", "[sds][xds]") {
  CHECK(ContentVersion(kWeb) == ContentVersion(kWeb));
  CHECK(ContentVersion(kWeb) != ContentVersion(kWebRotated));
  CHECK(ContentVersion({{"a", "bc"}}) != ContentVersion({{"ab", "c"}}));
  CHECK(ContentVersion({}) != ContentVersion({{"", ""}}));
}

TEST_CASE("Every nonce is fresh", "[sds][xds]") {
  std::string first = NextNonce();
  CHECK(NextNonce() != first);
}

TEST_CASE("Nothing is sent before the first request", "[sds][xds]") {
  SotwSubscription subscription;
  CHECK_FALSE(subscription.Offer(kWeb));
}

TEST_CASE("A new subscription is answered with the content and a version", "[sds][xds]") {
  SotwSubscription subscription;
  CHECK(subscription.OnRequest(Subscribe({"spiffe://example.org/web"})) == Kind::kSubscribe);

  std::optional<SotwResponse> response = subscription.Offer(kWeb);
  REQUIRE(response);
  CHECK(response->version == ContentVersion(kWeb));
  CHECK_FALSE(response->nonce.empty());
  CHECK(response->resources == kWeb);
}

TEST_CASE("A new subscription is answered even when nothing it names exists yet", "[sds][xds]") {
  SotwSubscription subscription;
  subscription.OnRequest(Subscribe({"spiffe://example.org/later"}));

  std::optional<SotwResponse> response = subscription.Offer({});
  REQUIRE(response);
  CHECK(response->resources.empty());
}

TEST_CASE("A reconnecting client that names the current version is answered all the same",
          "[sds][xds]") {
  SotwSubscription subscription;
  subscription.OnRequest(Subscribe({"spiffe://example.org/web"}, ContentVersion(kWeb)));

  std::optional<SotwResponse> response = subscription.Offer(kWeb);
  REQUIRE(response);
  CHECK(response->version == ContentVersion(kWeb));
}

TEST_CASE("An ACK gets no response", "[sds][xds]") {
  auto [subscription, first] = Answered();
  CHECK(subscription.OnRequest(Ack(first, {"spiffe://example.org/web"})) == Kind::kAck);
  CHECK_FALSE(subscription.Offer(kWeb));
}

TEST_CASE("Unchanged content is not sent again", "[sds][xds]") {
  auto [subscription, first] = Answered();
  CHECK_FALSE(subscription.Offer(kWeb));
}

TEST_CASE("Changed content is pushed with a new version and a new nonce", "[sds][xds]") {
  auto [subscription, first] = Answered();
  subscription.OnRequest(Ack(first, {"spiffe://example.org/web"}));

  std::optional<SotwResponse> pushed = subscription.Offer(kWebRotated);
  REQUIRE(pushed);
  CHECK(pushed->version != first.version);
  CHECK(pushed->nonce != first.nonce);
  CHECK(pushed->resources == kWebRotated);
}

TEST_CASE("A NACK is not answered and the rejected version is not sent again", "[sds][xds]") {
  auto [subscription, first] = Answered();
  CHECK(subscription.OnRequest(Nack(first, {"spiffe://example.org/web"})) == Kind::kNack);
  CHECK_FALSE(subscription.Offer(kWeb));

  SECTION("new content after a NACK is sent") {
    std::optional<SotwResponse> pushed = subscription.Offer(kWebRotated);
    REQUIRE(pushed);
    CHECK(pushed->resources == kWebRotated);
  }
}

TEST_CASE("A request with a stale nonce is ignored", "[sds][xds]") {
  auto [subscription, first] = Answered();
  subscription.OnRequest(Ack(first, {"spiffe://example.org/web"}));
  std::optional<SotwResponse> second = subscription.Offer(kWebRotated);
  REQUIRE(second);

  SECTION("even when it changes the names") {
    CHECK(subscription.OnRequest(Ack(first, {"ROOTCA"})) == Kind::kStale);
    CHECK(subscription.names() == std::vector<std::string>{"spiffe://example.org/web"});
    CHECK_FALSE(subscription.Offer(kWebRotated));
  }
  SECTION("even when it is a NACK") {
    CHECK(subscription.OnRequest(Nack(first, {"spiffe://example.org/web"})) == Kind::kStale);
    CHECK_FALSE(subscription.Offer(kWebRotated));
  }
}

TEST_CASE("A change of resource names is answered at once", "[sds][xds]") {
  auto [subscription, first] = Answered();
  CHECK(subscription.OnRequest(Ack(first, {"spiffe://example.org/web", "ROOTCA"})) ==
        Kind::kNamesChanged);
  CHECK(subscription.names() == std::vector<std::string>{"spiffe://example.org/web", "ROOTCA"});

  ResourceList both = {kWeb[0], {"ROOTCA", "bundle"}};
  std::optional<SotwResponse> response = subscription.Offer(both);
  REQUIRE(response);
  CHECK(response->resources == both);
}

TEST_CASE("Reordered names are not a change", "[sds][xds]") {
  SotwSubscription subscription;
  subscription.OnRequest(Subscribe({"a", "b"}));
  std::optional<SotwResponse> first = subscription.Offer({{"a", "1"}, {"b", "2"}});
  REQUIRE(first);
  CHECK(subscription.OnRequest(Ack(*first, {"b", "a"})) == Kind::kAck);
}

TEST_CASE("Empty resource names, or *, are a wildcard subscription", "[sds][xds]") {
  SotwSubscription subscription;
  subscription.OnRequest(Subscribe({}));
  CHECK(subscription.wildcard());
  CHECK(IsWildcard({"ROOTCA", "*"}));
  CHECK_FALSE(IsWildcard({"ROOTCA"}));
}

// --- Incremental -----------------------------------------------------------

DeltaRequest DeltaSubscribe(std::vector<std::string> names) {
  return DeltaRequest{.subscribe = std::move(names)};
}

DeltaRequest DeltaAck(const DeltaResponse& response) {
  return DeltaRequest{.response_nonce = response.nonce};
}

const ResourceList kWebAndBundle = {kWeb[0], {"ROOTCA", "bundle"}};

// A delta subscription to the web SVID and ROOTCA whose first response has
// been sent.
std::pair<DeltaSubscription, DeltaResponse> DeltaAnswered() {
  DeltaSubscription subscription;
  subscription.OnRequest(DeltaSubscribe({"spiffe://example.org/web", "ROOTCA"}));
  std::optional<DeltaResponse> first = subscription.Offer(kWebAndBundle);
  REQUIRE(first);
  return {subscription, *first};
}

std::vector<std::string> Names(const DeltaResponse& response) {
  std::vector<std::string> names;
  for (const DeltaResource& resource : response.resources) {
    names.push_back(resource.name);
  }
  return names;
}

TEST_CASE("Delta: subscribed resources are sent once, with per-resource versions",
          "[sds][xds][delta]") {
  DeltaSubscription subscription;
  CHECK_FALSE(subscription.Offer(kWeb));
  CHECK(subscription.OnRequest(DeltaSubscribe({"spiffe://example.org/web"})) ==
        DeltaSubscription::AckKind::kNone);
  CHECK_FALSE(subscription.wildcard());

  std::optional<DeltaResponse> response = subscription.Offer(kWeb);
  REQUIRE(response);
  REQUIRE(response->resources.size() == 1);
  CHECK(response->resources[0].name == "spiffe://example.org/web");
  CHECK(response->resources[0].version == ResourceVersion("web-v1"));
  CHECK(response->removed.empty());

  CHECK(subscription.OnRequest(DeltaAck(*response)) == DeltaSubscription::AckKind::kAck);
  CHECK_FALSE(subscription.Offer(kWeb));
}

TEST_CASE("Delta: a first request that subscribes to nothing, or to *, is a wildcard",
          "[sds][xds][delta]") {
  DeltaSubscription subscription;
  SECTION("nothing") { subscription.OnRequest(DeltaSubscribe({})); }
  SECTION("*") { subscription.OnRequest(DeltaSubscribe({"*"})); }
  CHECK(subscription.wildcard());
  CHECK(subscription.names().empty());
}

TEST_CASE("Delta: a legacy wildcard ends with a later specific subscription, * does not",
          "[sds][xds][delta]") {
  DeltaSubscription legacy;
  legacy.OnRequest(DeltaSubscribe({}));
  legacy.OnRequest(DeltaSubscribe({"ROOTCA"}));
  CHECK_FALSE(legacy.wildcard());

  DeltaSubscription star;
  star.OnRequest(DeltaSubscribe({"*"}));
  star.OnRequest(DeltaSubscribe({"ROOTCA"}));
  CHECK(star.wildcard());
  star.OnRequest(DeltaRequest{.unsubscribe = {"*"}});
  CHECK_FALSE(star.wildcard());
}

TEST_CASE("Delta: only changed resources are sent", "[sds][xds][delta]") {
  auto [subscription, first] = DeltaAnswered();

  std::optional<DeltaResponse> pushed = subscription.Offer({kWebRotated[0], {"ROOTCA", "bundle"}});
  REQUIRE(pushed);
  CHECK(Names(*pushed) == std::vector<std::string>{"spiffe://example.org/web"});
}

TEST_CASE("Delta: a resource that goes away is removed", "[sds][xds][delta]") {
  auto [subscription, first] = DeltaAnswered();

  std::optional<DeltaResponse> pushed = subscription.Offer({{"ROOTCA", "bundle"}});
  REQUIRE(pushed);
  CHECK(pushed->resources.empty());
  CHECK(pushed->removed == std::vector<std::string>{"spiffe://example.org/web"});

  SECTION("and sent again when it comes back") {
    std::optional<DeltaResponse> back = subscription.Offer(kWebAndBundle);
    REQUIRE(back);
    CHECK(Names(*back) == std::vector<std::string>{"spiffe://example.org/web"});
  }
}

TEST_CASE("Delta: an unsubscribed resource is forgotten, not removed", "[sds][xds][delta]") {
  auto [subscription, first] = DeltaAnswered();

  DeltaRequest unsubscribe = DeltaAck(first);
  unsubscribe.unsubscribe = {"spiffe://example.org/web"};
  CHECK(subscription.OnRequest(unsubscribe) == DeltaSubscription::AckKind::kAck);
  CHECK(subscription.names() == std::set<std::string>{"ROOTCA"});
  CHECK_FALSE(subscription.Offer({{"ROOTCA", "bundle"}}));
}

TEST_CASE("Delta: an alias unsubscribed under a wildcard is not reported removed",
          "[sds][xds][delta]") {
  DeltaSubscription subscription;
  subscription.OnRequest(DeltaSubscribe({"*", "default"}));
  REQUIRE(subscription.Offer({{"default", "svid"}, {"spiffe://example.org", "bundle"}}));

  subscription.OnRequest(DeltaRequest{.unsubscribe = {"default"}});
  CHECK(subscription.wildcard());
  CHECK_FALSE(subscription.Offer({{"spiffe://example.org", "bundle"}}));
}

TEST_CASE("Delta: a name subscribed again is sent even if unchanged", "[sds][xds][delta]") {
  DeltaSubscription subscription;
  subscription.OnRequest(DeltaSubscribe({"ROOTCA"}));
  REQUIRE(subscription.Offer({{"ROOTCA", "bundle"}}));

  subscription.OnRequest(DeltaSubscribe({"ROOTCA"}));
  std::optional<DeltaResponse> again = subscription.Offer({{"ROOTCA", "bundle"}});
  REQUIRE(again);
  CHECK(Names(*again) == std::vector<std::string>{"ROOTCA"});
}

TEST_CASE("Delta: a reconnecting client is not sent what it already has", "[sds][xds][delta]") {
  DeltaSubscription subscription;
  DeltaRequest reconnect = DeltaSubscribe({"spiffe://example.org/web", "ROOTCA"});
  reconnect.initial_versions = {{"spiffe://example.org/web", ResourceVersion("web-v1")},
                                {"ROOTCA", "old"}};
  subscription.OnRequest(reconnect);

  std::optional<DeltaResponse> response = subscription.Offer(kWebAndBundle);
  REQUIRE(response);
  CHECK(Names(*response) == std::vector<std::string>{"ROOTCA"});
}

TEST_CASE("Delta: a NACK keeps the rejected versions from being sent again", "[sds][xds][delta]") {
  DeltaSubscription subscription;
  subscription.OnRequest(DeltaSubscribe({"spiffe://example.org/web"}));
  std::optional<DeltaResponse> first = subscription.Offer(kWeb);
  REQUIRE(first);

  DeltaRequest nack = DeltaAck(*first);
  nack.nack = true;
  CHECK(subscription.OnRequest(nack) == DeltaSubscription::AckKind::kNack);
  CHECK_FALSE(subscription.Offer(kWeb));
  CHECK(subscription.Offer(kWebRotated));
}

TEST_CASE("Delta: a stale nonce is no ACK, but its subscription changes apply",
          "[sds][xds][delta]") {
  DeltaSubscription subscription;
  subscription.OnRequest(DeltaSubscribe({"spiffe://example.org/web"}));
  std::optional<DeltaResponse> first = subscription.Offer(kWeb);
  REQUIRE(first);
  REQUIRE(subscription.Offer(kWebRotated));

  DeltaRequest stale = DeltaAck(*first);
  stale.subscribe = {"ROOTCA"};
  CHECK(subscription.OnRequest(stale) == DeltaSubscription::AckKind::kStale);
  CHECK(subscription.names().contains("ROOTCA"));
}

TEST_CASE("Delta: nothing to say sends nothing", "[sds][xds][delta]") {
  DeltaSubscription subscription;
  subscription.OnRequest(DeltaSubscribe({"spiffe://example.org/later"}));
  CHECK_FALSE(subscription.Offer({}));
}

}  // namespace
}  // namespace reattest::streams
