// SPIFFE IDs and trust domain names, validated once at the boundary.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reattest {

class SpiffeId {
 public:
  // Accepts `spiffe://TRUST_DOMAIN[/PATH]` per the SPIFFE ID standard: lower-case
  // trust domain of [a-z0-9.-_], path segments of [A-Za-z0-9.-_], no empty,
  // `.` or `..` segments, no trailing slash, no query or fragment.
  static absl::StatusOr<SpiffeId> Parse(std::string_view text);

  const std::string& str() const { return text_; }
  std::string_view trust_domain() const;
  // `spiffe://TRUST_DOMAIN`, the key of bundle maps.
  std::string trust_domain_id() const;
  std::string_view path() const;

  bool operator==(const SpiffeId& other) const = default;

 private:
  explicit SpiffeId(std::string text, size_t path_start)
      : text_(std::move(text)), path_start_(path_start) {}

  std::string text_;
  size_t path_start_;
};

// Validates a bare trust domain name (`example.org`).
absl::Status ValidateTrustDomain(std::string_view name);

}  // namespace reattest
