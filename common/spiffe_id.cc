#include "common/spiffe_id.h"

#include "common/strings.h"

namespace reattest {
namespace {

constexpr std::string_view kScheme = "spiffe://";

bool IsTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool IsPathChar(char c) { return IsTrustDomainChar(c) || (c >= 'A' && c <= 'Z'); }

absl::Status ValidatePath(std::string_view path) {
  // Each segment starts after a '/'; the path either is empty or starts with '/'.
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos + 1);
    std::string_view segment = path.substr(
        pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
    if (segment.empty()) {
      return absl::InvalidArgumentError("path has an empty segment or a trailing slash");
    }
    if (segment == "." || segment == "..") {
      return absl::InvalidArgumentError("path has a '.' or '..' segment");
    }
    for (char c : segment) {
      if (!IsPathChar(c)) {
        return absl::InvalidArgumentError(
            Concat("path has an invalid character '", std::string_view(&c, 1), "'"));
      }
    }
    pos = next == std::string_view::npos ? path.size() : next;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTrustDomain(std::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError("trust domain is empty");
  }
  for (char c : name) {
    if (!IsTrustDomainChar(c)) {
      return absl::InvalidArgumentError(
          Concat("trust domain \"", name,
                 "\" may only hold lower-case letters, digits, '.', '-' and '_'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SpiffeId> SpiffeId::Parse(std::string_view text) {
  if (!text.starts_with(kScheme)) {
    return absl::InvalidArgumentError(
        Concat("\"", text, "\" is not a SPIFFE ID: it must start with spiffe://"));
  }
  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view domain = rest.substr(0, slash);
  if (absl::Status status = ValidateTrustDomain(domain); !status.ok()) {
    return absl::InvalidArgumentError(Concat("\"", text, "\": ", status.message()));
  }
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (absl::Status status = ValidatePath(path); !status.ok()) {
    return absl::InvalidArgumentError(Concat("\"", text, "\": ", status.message()));
  }
  return SpiffeId(std::string(text), kScheme.size() + domain.size());
}

std::string_view SpiffeId::trust_domain() const {
  return std::string_view(text_).substr(kScheme.size(), path_start_ - kScheme.size());
}

std::string SpiffeId::trust_domain_id() const { return text_.substr(0, path_start_); }

std::string_view SpiffeId::path() const { return std::string_view(text_).substr(path_start_); }

}  // namespace reattest
