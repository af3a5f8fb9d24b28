// Selectors are strings in SPIRE's spelling, `TYPE:VALUE` (`unix:uid:1000`,
// `docker:label:app:web`). A workload's selectors form an ordered set, so two
// attestations that found the same facts compare equal.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace reattest {

using SelectorSet = std::set<std::string>;

// The attestor part of a selector: `unix` for `unix:uid:1000`; empty when the
// selector has no `:`.
std::string_view SelectorType(std::string_view selector);

// True when every selector of `required` is in `have` (an entry applies to a
// workload). An empty `required` never matches: an entry must select something.
bool MatchesAll(const std::vector<std::string>& required, const SelectorSet& have);

}  // namespace reattest
