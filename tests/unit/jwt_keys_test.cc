// The local JWT authority: keys persisted in data_dir, rotation, publication
// of replaced keys, and the token cache.
#include "identity/local/jwt_keys.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "identity/jwt/jwt_svid.h"
#include "identity/local/jwt_issuer.h"
#include "tests/unit/temp_dir.h"

namespace reattest::identity {
namespace {

using Clock = std::chrono::system_clock;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using KeySetPtr = std::shared_ptr<const JwtKeySet>;

const Clock::time_point kStart = Clock::time_point(seconds(1'800'000'000));

class KeysFixture {
 public:
  KeySetPtr Load(Clock::time_point now = kStart) {
    absl::StatusOr<KeySetPtr> keys = JwtKeySet::LoadOrCreate(policy_, now);
    INFO(keys.status().ToString());
    REQUIRE(keys.ok());
    return *keys;
  }
  KeySetPtr Advance(const KeySetPtr& keys, Clock::time_point now) {
    absl::StatusOr<KeySetPtr> next = JwtKeySet::Advance(keys, policy_, now);
    INFO(next.status().ToString());
    REQUIRE(next.ok());
    return *next;
  }
  std::string file() const { return dir_.Join("data/jwt_keys.json"); }

 protected:
  testing::TempDir dir_;
  JwtKeyPolicy policy_{dir_.Join("data"), hours(1), minutes(5)};
};

std::vector<std::string> Kids(const JwtKeySet& keys) {
  std::vector<std::string> kids;
  for (const JwtPublicKey& key : keys.published()) {
    kids.push_back(key.kid);
  }
  return kids;
}

TEST_CASE_METHOD(KeysFixture, "The JWT key is generated once, kept private, and reloaded",
                 "[jwt_keys]") {
  KeySetPtr first = Load();
  struct stat info;
  REQUIRE(stat(file().c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);

  KeySetPtr again = Load(kStart + minutes(10));
  CHECK(again->signer().kid == first->signer().kid);
  CHECK(EVP_PKEY_eq(again->signer().key.get(), first->signer().key.get()) == 1);
  CHECK(again->jwks() == first->jwks());
}

TEST_CASE_METHOD(KeysFixture,
                 "A due signer is replaced and stays published until its tokens expire",
                 "[jwt_keys]") {
  KeySetPtr first = Load();
  CHECK(first->next_change() == kStart + hours(1));
  CHECK(Advance(first, kStart + minutes(59)) == first);

  KeySetPtr rotated = Advance(first, kStart + hours(1));
  REQUIRE(Kids(*rotated).size() == 2);
  CHECK(Kids(*rotated)[1] == first->signer().kid);
  CHECK(rotated->signer().kid != first->signer().kid);
  CHECK(rotated->next_change() == kStart + hours(1) + minutes(5));

  KeySetPtr dropped = Advance(rotated, kStart + hours(1) + minutes(5));
  CHECK(Kids(*dropped) == std::vector<std::string>{rotated->signer().kid});
  // What was persisted is what a restart loads.
  CHECK(Kids(*Load(kStart + hours(1) + minutes(6))) == Kids(*dropped));
}

TEST_CASE_METHOD(KeysFixture, "A corrupt key file is a start-up error naming the file",
                 "[jwt_keys]") {
  Load();
  std::ofstream(file(), std::ios::trunc) << "{\"keys\": 3}";
  absl::StatusOr<KeySetPtr> keys = JwtKeySet::LoadOrCreate(policy_, kStart);
  REQUIRE_FALSE(keys.ok());
  CHECK(std::string(keys.status().message()).starts_with(file() + ": "));
}

TEST_CASE_METHOD(KeysFixture, "The issuer caches a token per identity and audience set",
                 "[jwt_keys]") {
  JwtIssuer issuer(Load(), minutes(5));
  SpiffeId web = *SpiffeId::Parse("spiffe://example.org/web");
  SpiffeId api = *SpiffeId::Parse("spiffe://example.org/api");
  std::string token = *issuer.Issue(web, {"a", "b"}, kStart);

  CHECK(*issuer.Issue(web, {"b", "a", "a"}, kStart + minutes(2)) == token);
  CHECK(*issuer.Issue(web, {"a"}, kStart) != token);
  CHECK(*issuer.Issue(api, {"a", "b"}, kStart) != token);
  // Half-way through its life the token is re-minted.
  CHECK(*issuer.Issue(web, {"a", "b"}, kStart + seconds(150)) != token);
}

TEST_CASE_METHOD(KeysFixture, "A token expires before its key leaves the JWKS", "[jwt_keys]") {
  KeySetPtr keys = Load();
  JwtIssuer issuer(keys, minutes(5));
  SpiffeId web = *SpiffeId::Parse("spiffe://example.org/web");
  // Minted late, after the key was due for rotation: exp is cut short.
  Clock::time_point late = kStart + hours(1) + minutes(2);
  std::string token = *issuer.Issue(web, {"db"}, late);

  JwtTrust trust{{"example.org", keys->published()}};
  CHECK(ValidateJwtSvid(token, "db", trust, late).ok());
  CHECK_FALSE(ValidateJwtSvid(token, "db", trust, kStart + hours(1) + minutes(5)).ok());
}

}  // namespace
}  // namespace reattest::identity
