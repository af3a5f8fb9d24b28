// End to end: JWT-SVIDs and JWT bundles through the built agent binary on a
// temp socket (SPEC sections 4 and 5).
#include <openssl/evp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/agent_fixture.h"
#include "tests/support/wait.h"
#include "tests/support/workload_client.h"

namespace reattest::testing {
namespace {

using Json = nlohmann::json;

const std::string kRootEntries = EntriesYaml({{"/root", "unix:uid:0"}});

JWTSVIDRequest JwtRequest(const std::vector<std::string>& audience,
                          const std::string& spiffe_id = "") {
  JWTSVIDRequest request;
  for (const std::string& name : audience) {
    request.add_audience(name);
  }
  request.set_spiffe_id(spiffe_id);
  return request;
}

ValidateJWTSVIDRequest ValidateRequest(const std::string& audience, const std::string& token) {
  ValidateJWTSVIDRequest request;
  request.set_audience(audience);
  request.set_svid(token);
  return request;
}

// The JSON of a token's first (header) or second (claims) part.
Json TokenPart(const std::string& token, int index) {
  size_t start = 0;
  for (int i = 0; i < index; ++i) {
    start = token.find('.', start) + 1;
  }
  std::string part = token.substr(start, token.find('.', start) - start);
  std::replace(part.begin(), part.end(), '-', '+');
  std::replace(part.begin(), part.end(), '_', '/');
  size_t unpadded = part.size();
  part.append((4 - unpadded % 4) % 4, '=');
  std::string decoded(part.size(), '\0');
  int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                             reinterpret_cast<const unsigned char*>(part.data()),
                             static_cast<int>(part.size()));
  decoded.resize(static_cast<size_t>(size) - (part.size() - unpadded));
  return Json::parse(decoded);
}

std::vector<std::string> Kids(const JWTBundlesResponse& response, const std::string& id) {
  std::vector<std::string> kids;
  Json jwks = Json::parse(response.bundles().at(id));
  for (const Json& key : jwks["keys"]) {
    kids.push_back(key["kid"]);
  }
  return kids;
}

std::string FetchToken(std::shared_ptr<grpc::Channel> channel, const std::string& audience) {
  JWTSVIDResponse response;
  grpc::Status status = FetchJwtSvid(channel, JwtRequest({audience}), response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(response.svids_size() == 1);
  return response.svids(0).svid();
}

TEST_CASE("A fetched JWT-SVID validates through the socket with its SPIFFE ID and claims",
          "[e2e][jwt]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  auto channel = UnixChannel(fixture.socket());

  JWTSVIDResponse fetched;
  REQUIRE(FetchJwtSvid(channel, JwtRequest({"db", "cache"}), fetched).ok());
  REQUIRE(fetched.svids_size() == 1);
  CHECK(fetched.svids(0).spiffe_id() == "spiffe://example.org/root");
  Json header = TokenPart(fetched.svids(0).svid(), 0);
  CHECK(header["alg"] == "ES256");
  CHECK(header["kid"].is_string());

  ValidateJWTSVIDResponse validated;
  grpc::Status status =
      ValidateJwtSvid(channel, ValidateRequest("cache", fetched.svids(0).svid()), validated);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(validated.spiffe_id() == "spiffe://example.org/root");
  const auto& claims = validated.claims().fields();
  CHECK(claims.at("sub").string_value() == "spiffe://example.org/root");
  CHECK(claims.at("aud").list_value().values_size() == 2);
  // jwt_ttl defaults to 5m.
  CHECK(claims.at("exp").number_value() - claims.at("iat").number_value() == 300);
}

TEST_CASE("A second fetch for the same audiences returns the cached token", "[e2e][jwt]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  auto channel = UnixChannel(fixture.socket());

  JWTSVIDResponse first;
  JWTSVIDResponse second;
  REQUIRE(FetchJwtSvid(channel, JwtRequest({"a", "b"}), first).ok());
  REQUIRE(FetchJwtSvid(channel, JwtRequest({"b", "a"}), second).ok());
  CHECK(first.svids(0).svid() == second.svids(0).svid());
}

TEST_CASE("A token is rejected with the reason when its audience differs", "[e2e][jwt]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  auto channel = UnixChannel(fixture.socket());
  std::string token = FetchToken(channel, "db");

  ValidateJWTSVIDResponse validated;
  grpc::Status status = ValidateJwtSvid(channel, ValidateRequest("other", token), validated);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message() == "the token's aud does not name other");
}

TEST_CASE("JWT calls name what a request is missing", "[e2e][jwt]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  auto channel = UnixChannel(fixture.socket());

  SECTION("FetchJWTSVID without an audience") {
    JWTSVIDResponse response;
    grpc::Status status = FetchJwtSvid(channel, JwtRequest({}), response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "audience must be specified");
  }
  SECTION("ValidateJWTSVID without an audience") {
    ValidateJWTSVIDResponse response;
    grpc::Status status = ValidateJwtSvid(channel, ValidateRequest("", "a.b.c"), response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "audience must be specified");
  }
  SECTION("ValidateJWTSVID without a token") {
    ValidateJWTSVIDResponse response;
    grpc::Status status = ValidateJwtSvid(channel, ValidateRequest("db", ""), response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "svid must be specified");
  }
}

TEST_CASE("FetchJWTSVID with a spiffe_id returns only that identity", "[e2e][jwt]") {
  AgentFixture fixture(EntriesYaml({{"/a", "unix:uid:0"}, {"/b", "unix:gid:0"}}));
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  auto channel = UnixChannel(fixture.socket());

  SECTION("one it has") {
    JWTSVIDResponse response;
    REQUIRE(FetchJwtSvid(channel, JwtRequest({"db"}, "spiffe://example.org/b"), response).ok());
    REQUIRE(response.svids_size() == 1);
    CHECK(response.svids(0).spiffe_id() == "spiffe://example.org/b");
    CHECK(TokenPart(response.svids(0).svid(), 1)["sub"] == "spiffe://example.org/b");
  }
  SECTION("none: every identity, in entries order") {
    JWTSVIDResponse response;
    REQUIRE(FetchJwtSvid(channel, JwtRequest({"db"}), response).ok());
    REQUIRE(response.svids_size() == 2);
    CHECK(response.svids(0).spiffe_id() == "spiffe://example.org/a");
    CHECK(response.svids(1).spiffe_id() == "spiffe://example.org/b");
  }
  SECTION("one it lacks: PermissionDenied at once, the workload being complete") {
    JWTSVIDResponse response;
    grpc::Status status =
        FetchJwtSvid(channel, JwtRequest({"db"}, "spiffe://example.org/c"), response);
    CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(status.error_message() == "no identity issued");
  }
}

TEST_CASE("The JWT bundle stream carries the trust domain's JWKS", "[e2e][jwt]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  JwtBundlesStream stream(fixture.socket());
  std::optional<JWTBundlesResponse> response = stream.Next();
  REQUIRE(response);
  REQUIRE(response->bundles().size() == 1);
  Json keys = Json::parse(response->bundles().at("spiffe://example.org"))["keys"];
  REQUIRE(keys.size() == 1);
  CHECK(keys[0]["kty"] == "EC");
  CHECK(keys[0]["crv"] == "P-256");
  CHECK(keys[0]["use"] == "jwt-svid");
  CHECK(keys[0]["x"].get<std::string>().size() == 43);
  CHECK(keys[0]["y"].get<std::string>().size() == 43);
  CHECK(keys[0]["kid"] == TokenPart(FetchToken(UnixChannel(fixture.socket()), "db"), 0)["kid"]);
}

TEST_CASE("A restarted agent keeps its JWT key: a caller with no identity validates old tokens",
          "[e2e][jwt]") {
  AgentFixture fixture(kRootEntries);
  std::string token;
  {
    auto agent = fixture.Start();
    REQUIRE(agent->ready());
    token = FetchToken(UnixChannel(fixture.socket()), "db");
  }
  fixture.dir().Write("entries.yaml", EntriesYaml({{"/someone-else", "unix:uid:4321"}}));
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  ValidateJWTSVIDResponse validated;
  grpc::Status status =
      ValidateJwtSvid(UnixChannel(fixture.socket()), ValidateRequest("db", token), validated);
  INFO(status.error_message());
  CHECK(status.ok());
  CHECK(validated.spiffe_id() == "spiffe://example.org/root");
}

TEST_CASE("After a JWT key rotation the old key's tokens validate until they expire",
          "[e2e][jwt]") {
  AgentFixture fixture(kRootEntries,
                       "identity: {local: {entries_file: entries.yaml, jwt_ttl: 3s, "
                       "jwt_key_ttl: 1s}}\n");
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  auto channel = UnixChannel(fixture.socket());
  JwtBundlesStream bundles(fixture.socket());
  std::string token = FetchToken(channel, "db");
  std::string kid = TokenPart(token, 0)["kid"];

  // Wait for a JWKS with a new signer (listed first) that still lists the
  // token's key; earlier messages may predate the token's key.
  auto rotated_past = [&kid](const JWTBundlesResponse& response) {
    std::vector<std::string> kids = Kids(response, "spiffe://example.org");
    return kids.front() != kid && std::find(kids.begin(), kids.end(), kid) != kids.end();
  };
  std::optional<JWTBundlesResponse> rotated;
  while ((rotated = bundles.Next()) && !rotated_past(*rotated)) {
  }
  REQUIRE(rotated);
  ValidateJWTSVIDResponse validated;
  grpc::Status status = ValidateJwtSvid(channel, ValidateRequest("db", token), validated);
  INFO(status.error_message());
  CHECK(status.ok());
  CHECK(TokenPart(FetchToken(channel, "db"), 0)["kid"] != kid);

  // Once expired, the token is refused, whether its key is still listed or not.
  CHECK(WaitFor(
      [&] {
        grpc::Status later = ValidateJwtSvid(channel, ValidateRequest("db", token), validated);
        return later.error_code() == grpc::StatusCode::INVALID_ARGUMENT;
      },
      std::chrono::seconds(10)));
}

TEST_CASE("Every Workload API method refuses a call without the security header", "[e2e][jwt]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  auto channel = UnixChannel(fixture.socket());
  grpc::Status status;

  SECTION("FetchX509SVID") { status = X509Stream(channel, /*with_header=*/false).Finish(); }
  SECTION("FetchX509Bundles") {
    status = X509BundlesStream(channel, /*with_header=*/false).Finish();
  }
  SECTION("FetchJWTBundles") { status = JwtBundlesStream(channel, /*with_header=*/false).Finish(); }
  SECTION("FetchJWTSVID") {
    JWTSVIDResponse response;
    status = FetchJwtSvid(channel, JwtRequest({"db"}), response, /*with_header=*/false);
  }
  SECTION("ValidateJWTSVID") {
    ValidateJWTSVIDResponse response;
    status = ValidateJwtSvid(channel, ValidateRequest("db", "a.b.c"), response,
                             /*with_header=*/false);
  }
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message() == "security header missing from request");
}

}  // namespace
}  // namespace reattest::testing
