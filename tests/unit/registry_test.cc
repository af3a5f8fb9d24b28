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
}

}  // namespace
}  // namespace reattest::attestors
