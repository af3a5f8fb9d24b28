#include "identity/local/jwt_keys.h"

#include <openssl/rand.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/process.h"
#include "common/strings.h"
#include "identity/jwt/base64url.h"
#include "identity/local/durable_file.h"
#include "identity/local/x509_util.h"

namespace reattest::identity {
namespace {

using Clock = std::chrono::system_clock;
using Json = nlohmann::json;

constexpr std::string_view kFileName = "jwt_keys.json";
constexpr size_t kKidBytes = 16;

std::string FilePath(const JwtKeyPolicy& policy) { return Concat(policy.data_dir, "/", kFileName); }

int64_t UnixSeconds(Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

Clock::time_point FromUnixSeconds(int64_t seconds) {
  return Clock::time_point(std::chrono::seconds(seconds));
}

absl::StatusOr<JwtKey> GenerateKey(Clock::time_point now) {
  absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
  if (!key.ok()) {
    return key.status();
  }
  std::string kid(kKidBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(kid.data()), kKidBytes) != 1) {
    return OpenSslError("generate a key ID");
  }
  return JwtKey{.key = {Base64UrlEncode(kid), ShareKey(*std::move(key))},
                .created = std::chrono::floor<std::chrono::seconds>(now),
                .publish_until = std::nullopt};
}

absl::StatusOr<std::string> SerializeKeys(const std::vector<JwtKey>& keys) {
  Json list = Json::array();
  for (const JwtKey& key : keys) {
    absl::StatusOr<std::string> pem = PrivateKeyPem(*key.key.key);
    if (!pem.ok()) {
      return pem.status();
    }
    Json entry = {{"kid", key.key.kid}, {"created", UnixSeconds(key.created)}, {"key", *pem}};
    if (key.publish_until) {
      entry["publish_until"] = UnixSeconds(*key.publish_until);
    }
    list.push_back(std::move(entry));
  }
  return Json{{"keys", std::move(list)}}.dump(2);
}

absl::StatusOr<JwtKey> ParseKey(const Json& entry) {
  if (!entry.is_object() || !entry.value("kid", Json()).is_string() ||
      !entry.value("created", Json()).is_number_integer() ||
      !entry.value("key", Json()).is_string()) {
    return absl::InvalidArgumentError("each key needs kid, created and key");
  }
  absl::StatusOr<EvpPkeyPtr> key = ParsePrivateKeyPem(entry["key"].get<std::string>());
  if (!key.ok()) {
    return key.status();
  }
  JwtKey parsed{.key = {entry["kid"].get<std::string>(), ShareKey(*std::move(key))},
                .created = FromUnixSeconds(entry["created"].get<int64_t>()),
                .publish_until = std::nullopt};
  if (entry.contains("publish_until")) {
    if (!entry["publish_until"].is_number_integer()) {
      return absl::InvalidArgumentError("publish_until must be an integer");
    }
    parsed.publish_until = FromUnixSeconds(entry["publish_until"].get<int64_t>());
  }
  return parsed;
}

// The signer comes first and is the only key not yet replaced.
absl::StatusOr<std::vector<JwtKey>> ParseKeys(const std::string& text) {
  Json document = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object() || !document.value("keys", Json()).is_array()) {
    return absl::InvalidArgumentError("not a JSON object with a keys list");
  }
  std::vector<JwtKey> keys;
  for (const Json& entry : document["keys"]) {
    absl::StatusOr<JwtKey> key = ParseKey(entry);
    if (!key.ok()) {
      return key.status();
    }
    if (key->publish_until.has_value() != !keys.empty()) {
      return absl::InvalidArgumentError("the first key, and only it, must be the signer");
    }
    // The signer signs ES256.
    if (keys.empty() && (EVP_PKEY_get_base_id(key->key.key.get()) != EVP_PKEY_EC ||
                         EVP_PKEY_get_bits(key->key.key.get()) != 256)) {
      return absl::InvalidArgumentError("the signer must be an EC P-256 key");
    }
    keys.push_back(*std::move(key));
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError("no keys");
  }
  return keys;
}

// nullopt when the file does not exist yet.
absl::StatusOr<std::optional<std::vector<JwtKey>>> ReadKeys(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (absl::IsNotFound(text.status())) {
    return std::nullopt;
  }
  if (!text.ok()) {
    return text.status();
  }
  absl::StatusOr<std::vector<JwtKey>> keys = ParseKeys(*text);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(
        Concat(path, ": ", keys.status().message(), "; delete the file to generate a new JWT key"));
  }
  return std::optional<std::vector<JwtKey>>(*std::move(keys));
}

absl::Status Persist(const JwtKeyPolicy& policy, const std::vector<JwtKey>& keys) {
  absl::StatusOr<std::string> text = SerializeKeys(keys);
  if (!text.ok()) {
    return text.status();
  }
  return WriteFileDurably(FilePath(policy), *text, 0600);
}

// Replaces a signer that is due and drops replaced keys whose tokens have
// all expired. True when anything changed.
absl::StatusOr<bool> AdvanceKeys(std::vector<JwtKey>& keys, const JwtKeyPolicy& policy,
                                 Clock::time_point now) {
  bool changed = false;
  Clock::time_point rotate_at = keys.front().created + policy.key_ttl;
  // TODO: generate the successor ahead of rotate_at and publish it in the
  // JWKS before it signs, as the CA rotation plan does, so validators that
  // cache the JWKS never meet an unknown kid right after a rotation.
  if (now >= rotate_at) {
    absl::StatusOr<JwtKey> fresh = GenerateKey(now);
    if (!fresh.ok()) {
      return fresh.status();
    }
    // The issuer caps every token's exp at rotate_at + token_ttl, so this
    // outlives every token the key signed, even one signed late.
    keys.front().publish_until = rotate_at + policy.token_ttl;
    keys.insert(keys.begin(), *std::move(fresh));
    changed = true;
  }
  size_t before = keys.size();
  std::erase_if(keys, [now](const JwtKey& key) {
    return key.publish_until.has_value() && *key.publish_until <= now;
  });
  return changed || keys.size() != before;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const JwtKeySet>> JwtKeySet::Build(std::vector<JwtKey> keys,
                                                                  const JwtKeyPolicy& policy) {
  std::vector<JwtPublicKey> published;
  for (const JwtKey& key : keys) {
    published.push_back(key.key);
  }
  absl::StatusOr<std::string> jwks = RenderJwks(published);
  if (!jwks.ok()) {
    return jwks.status();
  }
  Clock::time_point rotate_at = keys.front().created + policy.key_ttl;
  return std::shared_ptr<const JwtKeySet>(
      new JwtKeySet(std::move(keys), rotate_at, std::move(published), *std::move(jwks)));
}

absl::StatusOr<std::shared_ptr<const JwtKeySet>> JwtKeySet::LoadOrCreate(const JwtKeyPolicy& policy,
                                                                         Clock::time_point now) {
  if (absl::Status status = EnsurePrivateDirectory(policy.data_dir); !status.ok()) {
    return status;
  }
  absl::StatusOr<std::optional<std::vector<JwtKey>>> loaded = ReadKeys(FilePath(policy));
  if (!loaded.ok()) {
    return loaded.status();
  }
  std::vector<JwtKey> keys;
  if (*loaded) {
    keys = **std::move(loaded);
  } else {
    absl::StatusOr<JwtKey> first = GenerateKey(now);
    if (!first.ok()) {
      return first.status();
    }
    keys.push_back(*std::move(first));
  }
  absl::StatusOr<bool> changed = AdvanceKeys(keys, policy, now);
  if (!changed.ok()) {
    return changed.status();
  }
  if (*changed || !*loaded) {
    if (absl::Status status = Persist(policy, keys); !status.ok()) {
      return status;
    }
  }
  return Build(std::move(keys), policy);
}

absl::StatusOr<std::shared_ptr<const JwtKeySet>> JwtKeySet::Advance(
    std::shared_ptr<const JwtKeySet> current, const JwtKeyPolicy& policy, Clock::time_point now) {
  std::vector<JwtKey> keys = current->keys_;
  absl::StatusOr<bool> changed = AdvanceKeys(keys, policy, now);
  if (!changed.ok()) {
    return changed.status();
  }
  if (!*changed) {
    return current;
  }
  if (absl::Status status = Persist(policy, keys); !status.ok()) {
    return status;
  }
  return Build(std::move(keys), policy);
}

Clock::time_point JwtKeySet::next_change() const {
  Clock::time_point next = signer_rotate_at_;
  for (const JwtKey& key : keys_) {
    if (key.publish_until) {
      next = std::min(next, *key.publish_until);
    }
  }
  return next;
}

}  // namespace reattest::identity
