#include "identity/entries_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/strings.h"
#include "tests/unit/temp_dir.h"

namespace reattest::identity {
namespace {

constexpr std::string_view kTrustDomain = "example.org";

absl::StatusOr<std::vector<Entry>> Parse(std::string_view yaml) {
  return ParseEntries(yaml, "entries.yaml", kTrustDomain);
}

std::string ErrorOf(std::string_view yaml) {
  absl::StatusOr<std::vector<Entry>> entries = Parse(yaml);
  REQUIRE_FALSE(entries.ok());
  CHECK(entries.status().code() == absl::StatusCode::kInvalidArgument);
  return Concat(entries.status().message());
}

TEST_CASE("A valid entries file yields every field in file order", "[entries_file]") {
  absl::StatusOr<std::vector<Entry>> entries = Parse(R"(entries:
  - spiffe_id: spiffe://example.org/web
    selectors: [unix:uid:1000, docker:label:app:web]
    federates_with: [spiffe://partner.org]
    dns_names: [web.internal, "*.web.internal"]
    hint: internal
    x509_ttl: 90m
  - spiffe_id: spiffe://example.org/db
    selectors:
      - unix:uid:1001
)");
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 2);

  const Entry& web = (*entries)[0];
  CHECK(web.spiffe_id.str() == "spiffe://example.org/web");
  CHECK(web.selectors == std::vector<std::string>{"unix:uid:1000", "docker:label:app:web"});
  CHECK(web.federates_with == std::vector<std::string>{"spiffe://partner.org"});
  CHECK(web.dns_names == std::vector<std::string>{"web.internal", "*.web.internal"});
  CHECK(web.hint == "internal");
  CHECK(web.x509_ttl == std::chrono::minutes(90));
  CHECK(web.line == 2);

  const Entry& db = (*entries)[1];
  CHECK(db.spiffe_id.str() == "spiffe://example.org/db");
  CHECK(db.selectors == std::vector<std::string>{"unix:uid:1001"});
  CHECK(db.federates_with.empty());
  CHECK(db.dns_names.empty());
  CHECK(db.hint.empty());
  CHECK_FALSE(db.x509_ttl.has_value());
  CHECK(db.line == 8);
}

TEST_CASE("An empty list is written entries: []", "[entries_file]") {
  absl::StatusOr<std::vector<Entry>> entries = Parse("entries: []\n");
  REQUIRE(entries.ok());
  CHECK(entries->empty());
}

TEST_CASE("A file without an entries key is rejected", "[entries_file]") {
  SECTION("empty file") {
    CHECK(ErrorOf("") == "entries.yaml:1: entries: is required (write `entries: []` for none)");
  }
  SECTION("entries without a value") {
    CHECK(ErrorOf("entries:\n") ==
          "entries.yaml:1: entries: is required (write `entries: []` for none)");
  }
  SECTION("entries is not a list") {
    CHECK(ErrorOf("entries: {}\n") ==
          "entries.yaml:1: entries: must be a list (write `entries: []` for none)");
  }
}

TEST_CASE("An unknown key rejects the file, naming its line and path", "[entries_file]") {
  SECTION("in an entry") {
    CHECK(ErrorOf(R"(entries:
  - spiffe_id: spiffe://example.org/web
    selectors: [unix:uid:1000]
    ttl: 1h
)") == "entries.yaml:4: entries[0].ttl: unknown key (expected spiffe_id, dns_names, "
       "federates_with, hint, selectors, x509_ttl)");
  }
  SECTION("at the top level") {
    CHECK(ErrorOf("entries: []\nentry: []\n") ==
          "entries.yaml:2: entry: unknown key (expected entries)");
  }
  SECTION("a repeated key") {
    CHECK(ErrorOf(R"(entries:
  - spiffe_id: spiffe://example.org/web
    selectors: [unix:uid:1000]
    spiffe_id: spiffe://example.org/db
)") == "entries.yaml:4: entries[0].spiffe_id: appears twice");
  }
}

TEST_CASE("A spiffe_id outside the trust domain rejects the file", "[entries_file]") {
  CHECK(ErrorOf(R"(entries:
  - spiffe_id: spiffe://example.org/a
    selectors: [unix:uid:1]
  - spiffe_id: spiffe://example.org/b
    selectors: [unix:uid:2]
  - selectors: [unix:uid:3]
    spiffe_id: spiffe://other.org/x
)") == "entries.yaml:7: entries[2].spiffe_id: \"spiffe://other.org/x\" is outside trust "
       "domain example.org");
}

TEST_CASE("A missing or malformed spiffe_id rejects the file", "[entries_file]") {
  SECTION("missing") {
    CHECK(ErrorOf("entries:\n  - selectors: [unix:uid:1]\n") ==
          "entries.yaml:2: entries[0].spiffe_id: is required");
  }
  SECTION("the trust domain itself") {
    CHECK(ErrorOf("entries:\n  - spiffe_id: spiffe://example.org\n    selectors: [unix:uid:1]\n") ==
          "entries.yaml:2: entries[0].spiffe_id: \"spiffe://example.org\" names the trust "
          "domain itself; add a path");
  }
}

TEST_CASE("Selectors must be a non-empty list of TYPE:VALUE strings", "[entries_file]") {
  SECTION("no type") {
    CHECK(ErrorOf("entries:\n  - spiffe_id: spiffe://example.org/a\n    selectors: [uid1000]\n") ==
          "entries.yaml:3: entries[0].selectors[0]: \"uid1000\" is not a selector: write "
          "TYPE:VALUE, such as unix:uid:1000");
  }
  SECTION("no value") {
    CHECK(ErrorOf("entries:\n  - spiffe_id: spiffe://example.org/a\n    selectors:\n"
                  "      - unix:uid:1\n      - 'unix:'\n") ==
          "entries.yaml:5: entries[0].selectors[1]: \"unix:\" is not a selector: write "
          "TYPE:VALUE, such as unix:uid:1000");
  }
  SECTION("empty list") {
    CHECK(ErrorOf("entries:\n  - spiffe_id: spiffe://example.org/a\n    selectors: []\n") ==
          "entries.yaml:3: entries[0].selectors: must list at least one selector");
  }
  SECTION("missing") {
    CHECK(ErrorOf("entries:\n  - spiffe_id: spiffe://example.org/a\n") ==
          "entries.yaml:2: entries[0].selectors: is required");
  }
  SECTION("not a list") {
    CHECK(ErrorOf("entries:\n  - spiffe_id: spiffe://example.org/a\n    selectors: unix:uid:1\n") ==
          "entries.yaml:3: entries[0].selectors: must be a list");
  }
}

TEST_CASE("A malformed x509_ttl rejects the file", "[entries_file]") {
  constexpr std::string_view kHead =
      "entries:\n  - spiffe_id: spiffe://example.org/a\n    selectors: [unix:uid:1]\n";
  SECTION("not a duration") {
    CHECK(ErrorOf(Concat(kHead, "    x509_ttl: 1 hour\n")) ==
          "entries.yaml:4: entries[0].x509_ttl: invalid duration \"1 hour\": use Go syntax such as "
          "300ms, 1.5s, 1m30s");
  }
  SECTION("zero") {
    CHECK(ErrorOf(Concat(kHead, "    x509_ttl: 0\n")) ==
          "entries.yaml:4: entries[0].x509_ttl: must be at least 1.0s");
  }
}

TEST_CASE("Malformed optional fields reject the file", "[entries_file]") {
  constexpr std::string_view kHead =
      "entries:\n  - spiffe_id: spiffe://example.org/a\n    selectors: [unix:uid:1]\n";
  SECTION("federates_with names a workload, not a trust domain") {
    CHECK(ErrorOf(Concat(kHead, "    federates_with: [spiffe://partner.org/x]\n")) ==
          "entries.yaml:4: entries[0].federates_with[0]: \"spiffe://partner.org/x\" is not a "
          "trust domain ID: write spiffe://NAME");
  }
  SECTION("a DNS name with a space") {
    CHECK(ErrorOf(Concat(kHead, "    dns_names: [\"web internal\"]\n")) ==
          "entries.yaml:4: entries[0].dns_names[0]: \"web internal\" is not a DNS name");
  }
  SECTION("a hint that is a list") {
    CHECK(ErrorOf(Concat(kHead, "    hint: [a]\n")) ==
          "entries.yaml:4: entries[0].hint: must be a string");
  }
}

TEST_CASE("A YAML syntax error names its line", "[entries_file]") {
  std::string error = ErrorOf("entries:\n  - spiffe_id: [unclosed\n");
  CHECK(error.starts_with("entries.yaml:"));
}

TEST_CASE("Warnings name disabled attestors and repeated SPIFFE IDs", "[entries_file]") {
  absl::StatusOr<std::vector<Entry>> entries = Parse(R"(entries:
  - spiffe_id: spiffe://example.org/web
    selectors: [unix:uid:1000]
  - spiffe_id: spiffe://example.org/web
    selectors: [k8s:ns:web]
)");
  REQUIRE(entries.ok());
  CHECK(EntryWarnings(*entries, {"unix", "k8s"}) ==
        std::vector<std::string>{"line 4: entry spiffe://example.org/web repeats the entry at "
                                 "line 2; where both apply to a workload, the first wins"});
  CHECK(EntryWarnings(*entries, {"unix"}) ==
        std::vector<std::string>{
            "line 4: entry spiffe://example.org/web: selector \"k8s:ns:web\" needs attestor k8s, "
            "which is not enabled, so the entry never applies",
            "line 4: entry spiffe://example.org/web repeats the entry at line 2; where both apply "
            "to a workload, the first wins"});
}

TEST_CASE("LoadEntriesFile names the file in its messages", "[entries_file]") {
  testing::TempDir dir;
  std::string path = dir.Join("entries.yaml");

  SECTION("a missing file") { CHECK_FALSE(LoadEntriesFile(path, kTrustDomain).ok()); }
  SECTION("a file with an error") {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    std::string_view contents = "entries:\n  - spiffe_id: 1\n    selectors: [unix:uid:1]\n";
    REQUIRE(write(fd, contents.data(), contents.size()) == ssize_t(contents.size()));
    close(fd);
    absl::StatusOr<std::vector<Entry>> entries = LoadEntriesFile(path, kTrustDomain);
    REQUIRE_FALSE(entries.ok());
    CHECK(Concat(entries.status().message()).starts_with(Concat(path, ":2: entries[0].spiffe_id")));
  }
}

}  // namespace
}  // namespace reattest::identity
