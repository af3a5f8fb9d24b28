// Merging attestor outcomes: last good selectors survive errors (SPEC 3).
#include "supervisor/merge.h"

#include <catch2/catch.hpp>

namespace reattest::supervisor {
namespace {

attestors::AttestResult Result(Outcome outcome, SelectorSet selectors = {}) {
  attestors::AttestResult result;
  result.outcome = outcome;
  result.selectors = std::move(selectors);
  return result;
}

TEST_CASE("The workload's selectors are the union of every attestor's", "[merge]") {
  std::vector<AttestorState> states(2);
  ApplyResults(states, {Result(Outcome::kOk, {"unix:uid:0"}),
                        Result(Outcome::kOk, {"docker:label:app:web"})});
  CHECK(MergedSelectors(states) == SelectorSet{"unix:uid:0", "docker:label:app:web"});
  CHECK_FALSE(AnyTransient(states));
}

TEST_CASE("Errors keep an attestor's last ok selectors; only ok or not_applicable change them",
          "[merge]") {
  std::vector<AttestorState> states(1);
  ApplyResults(states, {Result(Outcome::kOk, {"docker:label:app:web"})});

  SECTION("transient_error keeps them and marks the workload degraded") {
    ApplyResults(states, {Result(Outcome::kTransientError)});
    CHECK(MergedSelectors(states) == SelectorSet{"docker:label:app:web"});
    CHECK(AnyTransient(states));
  }
  SECTION("soft_error keeps them without degrading") {
    ApplyResults(states, {Result(Outcome::kSoftError)});
    CHECK(MergedSelectors(states) == SelectorSet{"docker:label:app:web"});
    CHECK_FALSE(AnyTransient(states));
  }
  SECTION("not_applicable removes them") {
    ApplyResults(states, {Result(Outcome::kNotApplicable)});
    CHECK(MergedSelectors(states).empty());
  }
  SECTION("a new ok replaces them") {
    ApplyResults(states, {Result(Outcome::kOk, {"docker:label:app:db"})});
    CHECK(MergedSelectors(states) == SelectorSet{"docker:label:app:db"});
  }
}

TEST_CASE("A first attestation that fails has no selectors to keep", "[merge]") {
  std::vector<AttestorState> states(2);
  ApplyResults(states, {Result(Outcome::kOk, {"unix:uid:0"}), Result(Outcome::kTransientError)});
  CHECK(MergedSelectors(states) == SelectorSet{"unix:uid:0"});
  CHECK(AnyTransient(states));
}

TEST_CASE("All attestors failing is told apart from a partial failure", "[merge]") {
  std::vector<AttestorState> states(2);
  CHECK_FALSE(AllErrors(states));  // nothing seen yet
  ApplyResults(states, {Result(Outcome::kSoftError), Result(Outcome::kTransientError)});
  CHECK(AllErrors(states));
  ApplyResults(states, {Result(Outcome::kNotApplicable), Result(Outcome::kTransientError)});
  CHECK_FALSE(AllErrors(states));
}

}  // namespace
}  // namespace reattest::supervisor
