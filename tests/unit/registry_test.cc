#include "attestors/registry.h"

#include <catch2/catch.hpp>

namespace reattest::attestors {
namespace {

TEST_CASE("Only the attestors present in the options are built", "[registry]") {
  AttestorsOptions options;

  SECTION("none") {
    absl::StatusOr<std::vector<std::unique_ptr<Attestor>>> attestors = BuildAttestors(options);
    REQUIRE(attestors.ok());
    CHECK(attestors->empty());
  }

  SECTION("unix") {
    options.unix_attestor = UnixOptions{};
    absl::StatusOr<std::vector<std::unique_ptr<Attestor>>> attestors = BuildAttestors(options);
    REQUIRE(attestors.ok());
    REQUIRE(attestors->size() == 1);
    CHECK((*attestors)[0]->name() == "unix");
  }

  SECTION("unix and docker, in that order") {
    options.docker = DockerOptions{};
    options.unix_attestor = UnixOptions{};
    absl::StatusOr<std::vector<std::unique_ptr<Attestor>>> attestors = BuildAttestors(options);
    REQUIRE(attestors.ok());
    REQUIRE(attestors->size() == 2);
    CHECK((*attestors)[0]->name() == "unix");
    CHECK((*attestors)[1]->name() == "docker");
    CHECK((*attestors)[1]->work_kind() == WorkKind::kNetwork);
  }

  SECTION("unix, docker and k8s, in that order") {
    options.k8s = K8sOptions{};
    options.docker = DockerOptions{};
    options.unix_attestor = UnixOptions{};
    absl::StatusOr<std::vector<std::unique_ptr<Attestor>>> attestors = BuildAttestors(options);
    REQUIRE(attestors.ok());
    REQUIRE(attestors->size() == 3);
    CHECK((*attestors)[2]->name() == "k8s");
    CHECK((*attestors)[2]->work_kind() == WorkKind::kNetwork);
    CHECK((*attestors)[2]->timeout() == K8sOptions{}.timeout);
  }
}

TEST_CASE("Invalid attestor options fail the build with the attestor's name", "[registry]") {
  AttestorsOptions options;
  std::string expected;

  SECTION("docker") {
    options.docker = DockerOptions{};
    options.docker->timeout = Duration::zero();
    expected = "attestors.docker: timeout must be positive";
  }
  SECTION("k8s") {
    options.k8s = K8sOptions{};
    options.k8s->timeout = Duration::zero();
    expected = "attestors.k8s: timeout must be positive";
  }

  absl::StatusOr<std::vector<std::unique_ptr<Attestor>>> attestors = BuildAttestors(options);

  REQUIRE_FALSE(attestors.ok());
  CHECK(std::string(attestors.status().message()) == expected);
}

}  // namespace
}  // namespace reattest::attestors
