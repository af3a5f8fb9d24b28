#include <catch2/catch.hpp>

#include "common/duration.h"
#include "common/process.h"
#include "common/selector.h"
#include "common/spiffe_id.h"

namespace reattest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("Go durations parse to nanoseconds", "[duration]") {
  CHECK(*ParseDuration("300ms") == milliseconds(300));
  CHECK(*ParseDuration("1.5s") == milliseconds(1500));
  CHECK(*ParseDuration("1m30s") == seconds(90));
  CHECK(*ParseDuration("2h") == std::chrono::hours(2));
  CHECK(*ParseDuration("0") == Duration::zero());
}

TEST_CASE("Malformed durations are rejected with the offending text", "[duration]") {
  for (const char* bad : {"", "10", "5 s", "-1s", "1x", "ms", "1.2.3s"}) {
    INFO(bad);
    absl::StatusOr<Duration> parsed = ParseDuration(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(std::string(parsed.status().message()).find("duration") != std::string::npos);
  }
}

TEST_CASE("Sizes accept bytes and binary suffixes", "[size]") {
  CHECK(*ParseSize("4096") == 4096);
  CHECK(*ParseSize("128MiB") == 128ULL << 20);
  CHECK(*ParseSize("1GiB") == 1ULL << 30);
  CHECK_FALSE(ParseSize("1MB").ok());
  CHECK_FALSE(ParseSize("KiB").ok());
}

TEST_CASE("SPIFFE IDs split into trust domain and path", "[spiffe_id]") {
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse("spiffe://example.org/ns/web");
  REQUIRE(id.ok());
  CHECK(id->trust_domain() == "example.org");
  CHECK(id->trust_domain_id() == "spiffe://example.org");
  CHECK(id->path() == "/ns/web");
}

TEST_CASE("Invalid SPIFFE IDs are rejected", "[spiffe_id]") {
  for (const char* bad :
       {"http://example.org/x", "spiffe://Example.org/x", "spiffe:///x", "spiffe://example.org/",
        "spiffe://example.org//x", "spiffe://example.org/a/../b", "spiffe://example.org/a?b"}) {
    INFO(bad);
    CHECK_FALSE(SpiffeId::Parse(bad).ok());
  }
}

TEST_CASE("An entry matches only when all its selectors are present", "[selector]") {
  SelectorSet have = {"unix:uid:1000", "docker:label:app:web"};
  CHECK(MatchesAll({"unix:uid:1000"}, have));
  CHECK(MatchesAll({"unix:uid:1000", "docker:label:app:web"}, have));
  CHECK_FALSE(MatchesAll({"unix:uid:1000", "docker:label:app:db"}, have));
  CHECK_FALSE(MatchesAll({}, have));
  CHECK(SelectorType("docker:label:app:web") == "docker");
}

TEST_CASE("The start time is field 22, read after the last parenthesis", "[process]") {
  // A command name with spaces and parentheses must not shift the fields.
  std::string stat =
      "4242 (evil ) 1 2 (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 "
      "1000 200 18446744073709551615";
  absl::StatusOr<uint64_t> start = ParseStartTime(stat);
  REQUIRE(start.ok());
  CHECK(*start == 987654);
  CHECK_FALSE(ParseStartTime("4242 (short) S 1 2").ok());
}

TEST_CASE("Effective IDs and groups come from the status file", "[process]") {
  std::string status =
      "Name:\tcat\nUid:\t1000\t1001\t1000\t1000\nGid:\t100\t101\t100\t100\nGroups:\t4 27 \n";
  absl::StatusOr<ProcStatus> parsed = ParseProcStatus(status);
  REQUIRE(parsed.ok());
  CHECK(parsed->uid == 1001);
  CHECK(parsed->gid == 101);
  CHECK(parsed->supplementary_gids == std::vector<gid_t>{4, 27});
  CHECK_FALSE(ParseProcStatus("Name:\tcat\n").ok());
}

TEST_CASE("Only the initial PID namespace counts as the host's", "[process]") {
  CHECK(IsInitialPidNamespace("pid:[4026531836]"));
  // A pod without hostPID: true, and a nested cluster node (kind).
  CHECK_FALSE(IsInitialPidNamespace("pid:[4026532451]"));
  // Same inode number, another kind of namespace.
  CHECK_FALSE(IsInitialPidNamespace("net:[4026531836]"));
  CHECK_FALSE(IsInitialPidNamespace(""));
}

TEST_CASE("A namespace link reads as its target, a missing one as an error naming it",
          "[process]") {
  absl::StatusOr<std::string> link = ReadLink("/proc/self/ns/pid");
  REQUIRE(link.ok());
  CHECK(link->starts_with("pid:["));
  absl::StatusOr<std::string> missing = ReadLink("/proc/self/ns/no-such-namespace");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("/proc/self/ns/no-such-namespace") != std::string::npos);
}

}  // namespace
}  // namespace reattest
