// Merging attestor outcomes into a workload's selector set (SPEC sections 2
// and 3). Pure: no loop, no I/O.
#pragma once

#include <vector>

#include "attestors/attestor.h"
#include "common/selector.h"

namespace reattest::supervisor {

// What the supervisor remembers of one attestor for one workload.
struct AttestorState {
  bool seen = false;  // false until the attestor's first result
  Outcome latest = Outcome::kNotApplicable;
  // The last `ok` selectors. Kept through soft and transient errors: a daemon
  // hiccup says nothing about the process, so its identity must not shrink.
  SelectorSet last_ok;
  std::string reason;
};

// Applies one round of results (results[i] belongs to states[i]).
void ApplyResults(std::vector<AttestorState>& states,
                  const std::vector<attestors::AttestResult>& results);

// The union of every attestor's kept selectors.
SelectorSet MergedSelectors(const std::vector<AttestorState>& states);

// Degraded: at least one attestor's latest outcome is transient_error.
bool AnyTransient(const std::vector<AttestorState>& states);

// Every configured attestor's latest outcome was an error: the waiting rule
// then answers Unavailable instead of PermissionDenied.
bool AllErrors(const std::vector<AttestorState>& states);

}  // namespace reattest::supervisor
