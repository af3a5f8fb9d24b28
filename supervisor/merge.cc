#include "supervisor/merge.h"

namespace reattest::supervisor {

void ApplyResults(std::vector<AttestorState>& states,
                  const std::vector<attestors::AttestResult>& results) {
  for (size_t i = 0; i < states.size() && i < results.size(); ++i) {
    AttestorState& state = states[i];
    const attestors::AttestResult& result = results[i];
    state.seen = true;
    state.latest = result.outcome;
    state.reason = result.reason;
    // Only a definite answer about the process may change its selectors.
    if (result.outcome == Outcome::kOk) {
      state.last_ok = result.selectors;
    } else if (result.outcome == Outcome::kNotApplicable) {
      state.last_ok.clear();
    }
  }
}

SelectorSet MergedSelectors(const std::vector<AttestorState>& states) {
  SelectorSet merged;
  for (const AttestorState& state : states) {
    merged.insert(state.last_ok.begin(), state.last_ok.end());
  }
  return merged;
}

bool AnyTransient(const std::vector<AttestorState>& states) {
  for (const AttestorState& state : states) {
    if (state.latest == Outcome::kTransientError) {
      return true;
    }
  }
  return false;
}

bool AllErrors(const std::vector<AttestorState>& states) {
  if (states.empty()) {
    return false;
  }
  for (const AttestorState& state : states) {
    if (!state.seen || !IsError(state.latest)) {
      return false;
    }
  }
  return true;
}

}  // namespace reattest::supervisor
