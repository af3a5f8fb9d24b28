#include "common/strings.h"

#include <cstdio>

namespace reattest {

namespace strings_internal {

void Append(std::string& out, double value) {
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%g", value);
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace strings_internal

std::vector<std::string_view> Split(std::string_view text, std::string_view delimiters,
                                    bool skip_empty) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of(delimiters, start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view piece = text.substr(start, end - start);
    if (!piece.empty() || !skip_empty) {
      pieces.push_back(piece);
    }
    start = end + 1;
  }
  return pieces;
}

std::string_view Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) {
    return {};
  }
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

std::string Join(const std::vector<std::string>& pieces, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) {
      out.append(separator);
    }
    out.append(pieces[i]);
  }
  return out;
}

}  // namespace reattest
