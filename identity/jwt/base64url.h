// Unpadded base64url (RFC 4648 section 5), the encoding of every part of a
// JWS and of JWK key material.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace reattest::identity {

std::string Base64UrlEncode(std::string_view bytes);

// Strict: only the base64url alphabet, no padding, no whitespace; nullopt
// for anything else (a token is attacker-controlled input).
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace reattest::identity
