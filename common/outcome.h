// The four outcomes of one attestation of one process by one attestor
// (SPEC section 2). Shared by attestors/, supervisor/ and metrics/.
#pragma once

#include <array>
#include <string_view>

namespace reattest {

enum class Outcome {
  kOk,              // the workload is this attestor's and was looked up fine
  kNotApplicable,   // not this attestor's business
  kSoftError,       // could not tell, or no longer worth retrying: count, never retry
  kTransientError,  // this attestor's workload, lookup failed: retry on backoff
};

inline constexpr std::array<Outcome, 4> kAllOutcomes = {
    Outcome::kOk, Outcome::kNotApplicable, Outcome::kSoftError, Outcome::kTransientError};

// The label value used in metrics and logs: `ok`, `not_applicable`, ...
std::string_view OutcomeName(Outcome outcome);

inline bool IsError(Outcome outcome) {
  return outcome == Outcome::kSoftError || outcome == Outcome::kTransientError;
}

}  // namespace reattest
