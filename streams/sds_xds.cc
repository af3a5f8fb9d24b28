#include "streams/sds_xds.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

namespace reattest::streams {
namespace {

// Enough of a SHA-256 to tell contents apart; short enough to read in logs.
constexpr size_t kVersionBytes = 8;

// Length-prefixes every part, so ("ab", "c") and ("a", "bc") differ.
void AppendPart(std::string& out, const std::string& part) {
  out += std::to_string(part.size());
  out += ':';
  out += part;
}

std::string HexDigest(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (size_t i = 0; i < kVersionBytes && i < length; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof(byte), "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

bool SameNames(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return a == b;
}

}  // namespace

std::string ContentVersion(const ResourceList& resources) {
  std::string data;
  for (const NamedResource& resource : resources) {
    AppendPart(data, resource.name);
    AppendPart(data, resource.bytes);
  }
  return HexDigest(data);
}

std::string ResourceVersion(const std::string& bytes) { return HexDigest(bytes); }

bool IsWildcard(const std::vector<std::string>& names) {
  return names.empty() || std::find(names.begin(), names.end(), kWildcardName) != names.end();
}

std::string NextNonce() {
  static std::atomic<uint64_t> next{1};
  return std::to_string(next.fetch_add(1));
}

// --- State of the world ----------------------------------------------------

SotwSubscription::RequestKind SotwSubscription::OnRequest(const SotwRequest& request) {
  if (!request.response_nonce.empty() && request.response_nonce != sent_nonce_) {
    return RequestKind::kStale;
  }
  // The order of names is the client's business; only the set counts.
  bool names_changed = !SameNames(names_, request.resource_names);
  names_ = request.resource_names;
  if (request.response_nonce.empty()) {
    // Includes a reconnecting client that names the version it has: it is
    // waiting for an answer all the same.
    subscribed_ = true;
    answer_due_ = true;
    return RequestKind::kSubscribe;
  }
  if (request.nack) {
    nacked_version_ = sent_version_;
  }
  if (names_changed) {
    answer_due_ = true;
    return RequestKind::kNamesChanged;
  }
  return request.nack ? RequestKind::kNack : RequestKind::kAck;
}

std::optional<SotwResponse> SotwSubscription::Offer(ResourceList resources) {
  if (!subscribed_) {
    return std::nullopt;
  }
  std::string version = ContentVersion(resources);
  bool news = version != sent_version_ && version != nacked_version_;
  if (!answer_due_ && !news) {
    return std::nullopt;
  }
  answer_due_ = false;
  sent_version_ = version;
  sent_nonce_ = NextNonce();
  return SotwResponse{version, sent_nonce_, std::move(resources)};
}

// --- Incremental -----------------------------------------------------------

DeltaSubscription::AckKind DeltaSubscription::OnRequest(const DeltaRequest& request) {
  bool first = !started_;
  started_ = true;
  if (first) {
    legacy_wildcard_ = request.subscribe.empty();
    client_versions_ = request.initial_versions;
  }

  bool specific = false;
  for (const std::string& name : request.subscribe) {
    if (name == kWildcardName) {
      explicit_wildcard_ = true;
      continue;
    }
    specific = true;
    names_.insert(name);
    if (!(first && request.initial_versions.contains(name))) {
      must_send_.insert(name);
    }
  }
  if (specific && !first) {
    legacy_wildcard_ = false;
  }

  for (const std::string& name : request.unsubscribe) {
    if (name == kWildcardName) {
      explicit_wildcard_ = false;
      legacy_wildcard_ = false;
      continue;
    }
    names_.erase(name);
    must_send_.erase(name);
    // The client dropped it: it is not "removed". A wildcard that still
    // covers it sends it again, which xDS allows.
    client_versions_.erase(name);
  }

  if (request.response_nonce.empty()) {
    return AckKind::kNone;
  }
  if (request.response_nonce != sent_nonce_) {
    return AckKind::kStale;
  }
  // After a NACK the versions sent stay recorded as the client's, so the
  // rejected content is not sent again; a later change is.
  return request.nack ? AckKind::kNack : AckKind::kAck;
}

std::optional<DeltaResponse> DeltaSubscription::Offer(const ResourceList& resources) {
  if (!started_) {
    return std::nullopt;
  }
  DeltaResponse response;
  std::set<std::string> present;
  for (const NamedResource& resource : resources) {
    present.insert(resource.name);
    std::string version = ResourceVersion(resource.bytes);
    auto known = client_versions_.find(resource.name);
    if (must_send_.contains(resource.name) || known == client_versions_.end() ||
        known->second != version) {
      client_versions_[resource.name] = version;
      response.resources.push_back({resource.name, version, resource.bytes});
    }
  }
  must_send_.clear();
  for (auto it = client_versions_.begin(); it != client_versions_.end();) {
    if (present.contains(it->first)) {
      ++it;
      continue;
    }
    response.removed.push_back(it->first);
    it = client_versions_.erase(it);
  }
  if (response.resources.empty() && response.removed.empty()) {
    return std::nullopt;
  }

  ResourceList versions;
  for (const auto& [name, version] : client_versions_) {
    versions.push_back({name, version});
  }
  response.system_version = ContentVersion(versions);
  sent_nonce_ = NextNonce();
  response.nonce = sent_nonce_;
  return response;
}

}  // namespace reattest::streams
