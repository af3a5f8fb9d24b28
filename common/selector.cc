#include "common/selector.h"

namespace reattest {

std::string_view SelectorType(std::string_view selector) {
  size_t colon = selector.find(':');
  if (colon == std::string_view::npos) {
    return {};
  }
  return selector.substr(0, colon);
}

bool MatchesAll(const std::vector<std::string>& required, const SelectorSet& have) {
  if (required.empty()) {
    return false;
  }
  for (const std::string& selector : required) {
    if (!have.contains(selector)) {
      return false;
    }
  }
  return true;
}

}  // namespace reattest
