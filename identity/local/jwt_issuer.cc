#include "identity/local/jwt_issuer.h"

#include <algorithm>

#include "identity/jwt/jwt_svid.h"

namespace reattest::identity {
namespace {

using Clock = std::chrono::system_clock;

// Bounds the cache; past it, tokens due for refresh are swept out.
constexpr size_t kMaxCachedTokens = 4096;

}  // namespace

absl::StatusOr<std::string> JwtIssuer::Issue(const SpiffeId& id, std::vector<std::string> audience,
                                             Clock::time_point now) const {
  std::vector<std::string> unique = audience;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  Key key(id.str(), unique);
  {
    absl::MutexLock lock(&mutex_);
    auto hit = cache_.find(key);
    if (hit != cache_.end() && hit->second.refresh_at > now) {
      return hit->second.token;
    }
  }

  // Repeats removed, first mention first, as the caller listed them.
  std::vector<std::string> ordered;
  for (std::string& name : audience) {
    if (std::find(ordered.begin(), ordered.end(), name) == ordered.end()) {
      ordered.push_back(std::move(name));
    }
  }
  Clock::time_point issued_at = std::chrono::floor<std::chrono::seconds>(now);
  Clock::time_point expiry =
      std::min(issued_at + token_ttl_, keys_->signer_rotate_at() + token_ttl_);
  if (expiry <= issued_at) {
    // The signer is long overdue for rotation (a stalled loop): its token would be born expired.
    return absl::UnavailableError("the JWT signing key is being rotated; try again");
  }
  absl::StatusOr<std::string> token =
      SignJwtSvid({id, std::move(ordered), issued_at, expiry}, keys_->signer());
  if (!token.ok()) {
    return token.status();
  }
  absl::MutexLock lock(&mutex_);
  Store(std::move(key), {*token, issued_at + (expiry - issued_at) / 2}, now);
  return token;
}

void JwtIssuer::Store(Key key, Cached cached, Clock::time_point now) const {
  if (cache_.size() >= kMaxCachedTokens) {
    std::erase_if(cache_, [now](const auto& item) { return item.second.refresh_at <= now; });
  }
  if (cache_.size() >= kMaxCachedTokens) {
    cache_.clear();  // every token is fresh: a burst of audiences, not a leak
  }
  cache_[std::move(key)] = std::move(cached);
}

}  // namespace reattest::identity
