// The docker attestor against a real Docker Engine (a private dockerd), with
// real containers and their real host PIDs. Slow-ish (seconds) and needs
// root and the packages docker.io and busybox-static.
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "attestors/docker/docker_attestor.h"
#include "common/strings.h"
#include "tests/support/docker_daemon.h"
#include "tests/support/status_check.h"

namespace reattest::attestors {
namespace {

using namespace std::chrono_literals;
using testing::DockerDaemon;

const std::string kImage = "reattest-busybox:test";

// A private daemon running one labelled container, and an attestor that asks it.
class Fixture {
 public:
  Fixture() {
    absl::StatusOr<std::unique_ptr<DockerDaemon>> daemon = DockerDaemon::Start();
    INFO(daemon.status().message());
    REQUIRE(daemon.ok());
    daemon_ = *std::move(daemon);
    NoteStorageDriver();

    absl::Status imported = daemon_->ImportBusybox(kImage);
    INFO(imported.message());
    REQUIRE(imported.ok());
    absl::StatusOr<DockerDaemon::Container> container =
        daemon_->Run({"--label", "app=web", "-e", "SECRET=x", kImage, "/bin/sleep", "3600"});
    INFO(container.status().message());
    REQUIRE(container.ok());
    container_ = *container;

    DockerOptions options;
    options.socket_path = daemon_->socket_path();
    options.timeout = 2s;
    absl::StatusOr<std::unique_ptr<DockerAttestor>> attestor = DockerAttestor::Create(options);
    REQUIRE(attestor.ok());
    attestor_ = *std::move(attestor);
  }

  DockerDaemon& daemon() { return *daemon_; }
  const DockerDaemon::Container& container() const { return container_; }

  // Attests the container's first process, as the agent would.
  AttestResult Attest() {
    AttestRequest request;
    request.pid = container_.pid;
    return attestor_->Attest(request);
  }

 private:
  void NoteStorageDriver() {
    if (daemon_->storage_driver() != "overlay2") {
      WARN("overlay2 does not work here; dockerd runs with " << daemon_->storage_driver());
    }
  }

  std::unique_ptr<DockerDaemon> daemon_;
  DockerDaemon::Container container_;
  std::unique_ptr<DockerAttestor> attestor_;
};

void CheckAttestsOk(Fixture& fixture) {
  AttestResult result = fixture.Attest();
  INFO(result.reason);
  CHECK(result.outcome == Outcome::kOk);
  CHECK(result.container_id == fixture.container().id);
  CHECK(result.selectors.count("docker:label:app:web") == 1);
  CHECK(result.selectors.count("docker:image_id:" + kImage) == 1);
  CHECK(result.selectors.count("docker:env:SECRET=x") == 1);
}

void CheckTransient(Fixture& fixture, const std::string& error) {
  AttestResult result = fixture.Attest();
  CHECK(result.outcome == Outcome::kTransientError);
  CHECK(result.container_id == fixture.container().id);
  CHECK_THAT(result.reason, Catch::EndsWith(Concat(fixture.daemon().socket_path(), ": ", error)));
}

TEST_CASE("A real container's process attests ok with its label, image and env selectors",
          "[docker]") {
  Fixture fixture;

  CheckAttestsOk(fixture);
}

TEST_CASE("A killed Docker daemon makes its containers transient until it is back", "[docker]") {
  Fixture fixture;
  REQUIRE_OK(fixture.daemon().Kill());

  CheckTransient(fixture, "connection refused");

  REQUIRE_OK(fixture.daemon().Restart());
  CheckAttestsOk(fixture);
}

TEST_CASE("A stopped Docker daemon makes its containers transient until it is back", "[docker]") {
  Fixture fixture;
  REQUIRE_OK(fixture.daemon().Stop());

  CheckTransient(fixture, "socket missing");

  REQUIRE_OK(fixture.daemon().Restart());
  CheckAttestsOk(fixture);
}

}  // namespace
}  // namespace reattest::attestors
