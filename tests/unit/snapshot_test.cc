#include "identity/snapshot.h"

#include <catch2/catch.hpp>

#include "tests/unit/temp_dir.h"

namespace reattest::identity {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using Clock = std::chrono::system_clock;
using SnapshotPtr = std::shared_ptr<const IdentitySnapshot>;

constexpr Duration kDefaultTtl = hours(1);

Entry MakeEntry(std::string_view id, std::vector<std::string> selectors) {
  return Entry{.spiffe_id = *SpiffeId::Parse(id), .selectors = std::move(selectors)};
}

// Fresh CA per test, with the jitter fixed so rotation times are exact.
class SnapshotFixture {
 public:
  SnapshotFixture() {
    absl::StatusOr<std::unique_ptr<LocalCa>> ca =
        LocalCa::LoadOrCreate(dir_.Join("data"), "example.org", hours(24), [] { return 1.0; });
    REQUIRE(ca.ok());
    ca_ = *std::move(ca);
  }

  SnapshotPtr Build(std::vector<Entry> entries, const SnapshotPtr& previous = nullptr,
                    Clock::time_point now = kStart, Duration default_ttl = kDefaultTtl) {
    absl::StatusOr<SnapshotPtr> snapshot =
        BuildSnapshot(*ca_, std::move(entries), previous.get(), default_ttl, now);
    INFO(snapshot.status().ToString());
    REQUIRE(snapshot.ok());
    return *std::move(snapshot);
  }

  static inline const Clock::time_point kStart =
      std::chrono::floor<std::chrono::seconds>(Clock::now());

 private:
  testing::TempDir dir_;
  std::unique_ptr<LocalCa> ca_;
};

TEST_CASE_METHOD(SnapshotFixture, "A snapshot holds one SVID per entry and the bundle",
                 "[snapshot]") {
  SnapshotPtr snapshot = Build({MakeEntry("spiffe://example.org/web", {"unix:uid:1000"}),
                                MakeEntry("spiffe://example.org/db", {"unix:uid:1001"})});

  REQUIRE(snapshot->svids.size() == 2);
  CHECK(snapshot->trust_domain == "example.org");
  CHECK_FALSE(snapshot->bundle_der.empty());
  CHECK(snapshot->svids[0]->spiffe_id.str() == "spiffe://example.org/web");
  CHECK(snapshot->svids[1]->spiffe_id.str() == "spiffe://example.org/db");
  CHECK(snapshot->next_rotation == snapshot->svids[0]->rotate_at);
}

TEST_CASE_METHOD(SnapshotFixture, "An empty entries list gives no SVIDs and no rotation",
                 "[snapshot]") {
  SnapshotPtr snapshot = Build({});
  CHECK(snapshot->svids.empty());
  CHECK(snapshot->next_rotation == Clock::time_point::max());
}

TEST_CASE_METHOD(SnapshotFixture, "Matches follow file order", "[snapshot]") {
  SnapshotPtr snapshot = Build({
      MakeEntry("spiffe://example.org/a", {"unix:uid:1000"}),
      MakeEntry("spiffe://example.org/b", {"unix:uid:1000", "docker:label:app:web"}),
      MakeEntry("spiffe://example.org/c", {"unix:uid:1001"}),
      MakeEntry("spiffe://example.org/d", {"docker:label:app:web"}),
  });

  CHECK(MatchEntries(*snapshot, {"unix:uid:1000", "docker:label:app:web"}) ==
        std::vector<size_t>{0, 1, 3});
  CHECK(MatchEntries(*snapshot, {"unix:uid:1001"}) == std::vector<size_t>{2});
  CHECK(MatchEntries(*snapshot, {"unix:uid:0"}).empty());
}

TEST_CASE_METHOD(SnapshotFixture, "Of two matching entries with one SPIFFE ID the first wins",
                 "[snapshot]") {
  SnapshotPtr snapshot = Build({
      MakeEntry("spiffe://example.org/web", {"docker:label:app:web"}),
      MakeEntry("spiffe://example.org/db", {"unix:uid:1000"}),
      MakeEntry("spiffe://example.org/web", {"unix:uid:1000"}),
  });

  CHECK(MatchEntries(*snapshot, {"unix:uid:1000", "docker:label:app:web"}) ==
        std::vector<size_t>{0, 1});
  CHECK(MatchEntries(*snapshot, {"unix:uid:1000"}) == std::vector<size_t>{1, 2});
}

TEST_CASE_METHOD(SnapshotFixture, "Unchanged entries keep their SVIDs", "[snapshot]") {
  Entry web = MakeEntry("spiffe://example.org/web", {"unix:uid:1000"});
  Entry db = MakeEntry("spiffe://example.org/db", {"unix:uid:1001"});
  SnapshotPtr first = Build({web, db});

  SECTION("rebuilt as they are") {
    SnapshotPtr second = Build({web, db}, first, kStart + minutes(5));
    CHECK(second->svids[0] == first->svids[0]);
    CHECK(second->svids[1] == first->svids[1]);
  }
  SECTION("moved, with new selectors, and with another entry added") {
    web.selectors = {"unix:uid:2000"};
    Entry cache = MakeEntry("spiffe://example.org/cache", {"unix:uid:1002"});
    SnapshotPtr second = Build({cache, db, web}, first, kStart + minutes(5));
    CHECK(second->svids[1] == first->svids[1]);
    CHECK(second->svids[2] == first->svids[0]);
    CHECK(second->svids[0]->spiffe_id.str() == "spiffe://example.org/cache");
  }
}

TEST_CASE_METHOD(SnapshotFixture, "A changed SVID input re-mints that entry only", "[snapshot]") {
  Entry web = MakeEntry("spiffe://example.org/web", {"unix:uid:1000"});
  Entry db = MakeEntry("spiffe://example.org/db", {"unix:uid:1001"});
  SnapshotPtr first = Build({web, db});

  SECTION("dns_names") {
    web.dns_names = {"web.internal"};
    SnapshotPtr second = Build({web, db}, first, kStart + minutes(5));
    CHECK(second->svids[0] != first->svids[0]);
    CHECK(second->svids[1] == first->svids[1]);
  }
  SECTION("hint") {
    web.hint = "internal";
    SnapshotPtr second = Build({web, db}, first, kStart + minutes(5));
    CHECK(second->svids[0] != first->svids[0]);
    CHECK(second->svids[0]->hint == "internal");
  }
  SECTION("x509_ttl") {
    web.x509_ttl = minutes(30);
    SnapshotPtr second = Build({web, db}, first, kStart + minutes(5));
    CHECK(second->svids[0] != first->svids[0]);
    CHECK(second->svids[1] == first->svids[1]);
  }
  SECTION("the default TTL of entries without their own") {
    SnapshotPtr second = Build({web, db}, first, kStart + minutes(5), minutes(30));
    CHECK(second->svids[0] != first->svids[0]);
    CHECK(second->svids[1] != first->svids[1]);
  }
}

TEST_CASE_METHOD(SnapshotFixture, "An SVID due for rotation is re-minted", "[snapshot]") {
  Entry web = MakeEntry("spiffe://example.org/web", {"unix:uid:1000"});
  Entry db = MakeEntry("spiffe://example.org/db", {"unix:uid:1001"});
  db.x509_ttl = hours(3);
  SnapshotPtr first = Build({web, db});
  Clock::time_point due = first->svids[0]->rotate_at;
  REQUIRE(first->next_rotation == due);

  SnapshotPtr second = Build({web, db}, first, due);
  CHECK(second->svids[0] != first->svids[0]);
  CHECK(second->svids[0]->not_before > first->svids[0]->not_before);
  CHECK(second->svids[1] == first->svids[1]);
  CHECK(second->next_rotation == second->svids[0]->rotate_at);
}

}  // namespace
}  // namespace reattest::identity
