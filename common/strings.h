// Small string helpers on std::string_view.
//
// Debian's Abseil is built with its own absl::string_view (not an alias of
// std::string_view), so absl::StrCat and absl::StrSplit do not accept
// std::string_view arguments. These helpers take their place; absl::Status
// still takes the std::string they produce.
#pragma once

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"

namespace reattest {

namespace strings_internal {

inline void Append(std::string& out, std::string_view piece) { out.append(piece); }
inline void Append(std::string& out, char c) { out.push_back(c); }
// absl::Status::message() returns Abseil's own string_view.
inline void Append(std::string& out, absl::string_view piece) {
  out.append(piece.data(), piece.size());
}
inline void Append(std::string& out, const char* piece) { out.append(piece); }
inline void Append(std::string& out, const std::string& piece) { out.append(piece); }

template <typename T>
requires(std::integral<T> && !std::same_as<T, char> &&
         !std::same_as<T, bool>) void Append(std::string& out, T value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}

void Append(std::string& out, double value);

}  // namespace strings_internal

// Concatenates strings, characters and numbers.
template <typename... Pieces>
std::string Concat(const Pieces&... pieces) {
  std::string out;
  (strings_internal::Append(out, pieces), ...);
  return out;
}

// Splits on any character of `delimiters`; empty pieces are dropped when
// `skip_empty` is true.
std::vector<std::string_view> Split(std::string_view text, std::string_view delimiters,
                                    bool skip_empty = true);

std::string_view Trim(std::string_view text);

// Parses a whole string of decimal digits; false on anything else.
template <typename T>
bool ParseInteger(std::string_view text, T& value) {
  if (text.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string Join(const std::vector<std::string>& pieces, std::string_view separator);

}  // namespace reattest
