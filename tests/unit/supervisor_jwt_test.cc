// The waiting rule of SPEC section 4 for the unary JWT calls: FetchJWTSVID
// naming a spiffe_id waits for that identity; ValidateJWTSVID waits only for
// the first attestation.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/unit/supervisor_harness.h"

namespace reattest::testing {
namespace {

using std::chrono::milliseconds;

// A sink that waits for one identity, as FetchJWTSVID with a spiffe_id does.
class NamedIdentitySink : public RecordingSink {
 public:
  explicit NamedIdentitySink(std::string spiffe_id) : spiffe_id_(std::move(spiffe_id)) {}

  bool satisfied_by(const supervisor::WorkloadIdentity& identity) const override {
    for (size_t index : identity.matched) {
      if (identity.snapshot->entries[index].spiffe_id.str() == spiffe_id_) {
        return true;
      }
    }
    return false;
  }

 private:
  const std::string spiffe_id_;
};

// A sink answered once attestation has run, identity or not, as
// ValidateJWTSVID is.
class AnyOutcomeSink : public RecordingSink {
 public:
  bool serves_without_identity() const override { return true; }
};

supervisor::SupervisorOptions Options() {
  supervisor::SupervisorOptions options;
  options.reattestation.initial_backoff = milliseconds(50);
  options.reattestation.jitter = 0;
  options.reattestation.periodic_interval = Duration::zero();
  options.reattestation.hold_timeout = milliseconds(300);
  options.random = [] { return 0.5; };
  return options;
}

struct TwoAttestors {
  ScriptedAttestor* docker;
  std::vector<std::unique_ptr<attestors::Attestor>> owned;

  TwoAttestors() {
    auto unix_owned = std::make_unique<ScriptedAttestor>("unix", attestors::WorkKind::kProc);
    auto docker_owned = std::make_unique<ScriptedAttestor>("docker", attestors::WorkKind::kNetwork);
    unix_owned->SetFallback(Ok({"unix:uid:0"}));
    docker_owned->SetFallback(Ok({"docker:label:app:web"}));
    docker = docker_owned.get();
    owned.push_back(std::move(unix_owned));
    owned.push_back(std::move(docker_owned));
  }
};

const auto kEntries =
    Snapshot({{"/host", {"unix:uid:0"}}, {"/web", {"unix:uid:0", "docker:label:app:web"}}});

TEST_CASE("A call naming an identity waits for it while the workload is degraded",
          "[supervisor][jwt]") {
  // Declared first: it outlives the harness, which ends it at shutdown.
  NamedIdentitySink sink("spiffe://example.org/web");
  TwoAttestors node;
  node.docker->Queue(Failed(Outcome::kTransientError));
  SupervisorHarness harness(std::move(node.owned), Options());
  harness.SetIdentity(kEntries);

  harness.Attach(sink, getpid());
  REQUIRE(sink.WaitDeliveries(1));
  // Delivered only after the retry: the first round had /host alone.
  CHECK(sink.deliveries()[0].size() == 2);
  CHECK(node.docker->calls() == 2);
}

TEST_CASE("A call naming an identity that a complete workload lacks is refused at once",
          "[supervisor][jwt]") {
  // Declared first: it outlives the harness, which ends it at shutdown.
  NamedIdentitySink sink("spiffe://example.org/other");
  TwoAttestors node;
  SupervisorHarness harness(std::move(node.owned), Options());
  harness.SetIdentity(kEntries);

  harness.Attach(sink, getpid());
  std::optional<absl::Status> ended = sink.WaitEnded();
  REQUIRE(ended);
  CHECK(ended->code() == absl::StatusCode::kPermissionDenied);
  CHECK(ended->message() == "no identity issued");
  CHECK(sink.deliveries().empty());
}

TEST_CASE("A call that needs no identity is answered after the first attestation",
          "[supervisor][jwt]") {
  // Declared first: it outlives the harness, which ends it at shutdown.
  AnyOutcomeSink sink;
  TwoAttestors node;
  SupervisorHarness harness(std::move(node.owned), Options());
  harness.SetIdentity(Snapshot({{"/other", {"unix:uid:4242"}}}));

  harness.Attach(sink, getpid());
  REQUIRE(sink.WaitDeliveries(1));
  CHECK(sink.deliveries()[0].empty());
  CHECK_FALSE(sink.WaitEnded(milliseconds(0)));
}

}  // namespace
}  // namespace reattest::testing
