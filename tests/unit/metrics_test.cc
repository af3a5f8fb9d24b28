#include "metrics/metrics.h"

#include <httplib.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "metrics/http_endpoint.h"
#include "tests/support/spec_metrics.h"

namespace reattest::metrics {
namespace {

using Samples = std::map<std::string, double>;

// The sample lines of a scrape, keyed by series as written
// (`name{label="value",...}`).
Samples ParseSamples(const std::string& text) {
  Samples samples;
  for (std::string_view line : Split(text, "\n")) {
    if (line.starts_with('#')) {
      continue;
    }
    size_t space = line.rfind(' ');
    REQUIRE(space != std::string_view::npos);
    samples[std::string(line.substr(0, space))] =
        std::strtod(std::string(line.substr(space + 1)).c_str(), nullptr);
  }
  return samples;
}

// The series whose value differs between two scrapes, with their new values.
Samples Changes(const Samples& before, const Samples& after) {
  Samples changed;
  for (const auto& [series, value] : after) {
    auto it = before.find(series);
    if (it == before.end() || it->second != value) {
      changed[series] = value;
    }
  }
  return changed;
}

bool IsHistogramPart(const std::string& series) {
  for (const char* suffix : {"_bucket{", "_sum", "_count"}) {
    if (series.find(suffix) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// A steady clock that moves only when told to.
struct FakeClock {
  SteadyClock::time_point now = SteadyClock::time_point(std::chrono::hours(1));
  std::function<SteadyClock::time_point()> Reader() {
    return [this] { return now; };
  }
};

const std::vector<std::string> kAttestors = {"unix", "docker"};

// Every non-histogram series that SPEC section 8 lists, for kAttestors and
// version "1.2.3", with its start-up value.
Samples ListedSeries() {
  Samples series;
  for (const std::string& attestor : kAttestors) {
    for (Outcome outcome : kAllOutcomes) {
      series[Concat("reattest_attestations_total{attestor=\"", attestor, "\",outcome=\"",
                    OutcomeName(outcome), "\"}")] = 0;
    }
  }
  for (std::string_view reason : kReattestationReasons) {
    series[Concat("reattest_reattestations_total{reason=\"", reason, "\"}")] = 0;
  }
  for (std::string_view state : kWorkloadStates) {
    series[Concat("reattest_workloads{state=\"", state, "\"}")] = 0;
  }
  for (std::string_view api : kApis) {
    for (const char* family :
         {"reattest_streams", "reattest_stuck_streams", "reattest_pushes_total"}) {
      series[Concat(family, "{api=\"", api, "\"}")] = 0;
    }
  }
  for (std::string_view limit : kLimits) {
    series[Concat("reattest_limit_rejections_total{limit=\"", limit, "\"}")] = 0;
  }
  for (const char* plain :
       {"reattest_oldest_degraded_seconds", "reattest_recoveries_total",
        "reattest_svid_rotations_total", "reattest_entries", "reattest_entries_reload_errors_total",
        "reattest_ca_expiry_timestamp_seconds"}) {
    series[plain] = 0;
  }
  series["reattest_config_reloads_total{result=\"ok\"}"] = 0;
  series["reattest_config_reloads_total{result=\"error\"}"] = 0;
  series["reattest_build_info{version=\"1.2.3\"}"] = 1;
  return series;
}

TEST_CASE("Every metric family of the spec is exported with HELP and TYPE from start-up",
          "[metrics]") {
  std::vector<std::pair<std::string, std::string>> families = testing::kSpecMetricFamilies;
  families.emplace_back("reattest_limit_rejections_total", "counter");  // our addition
  Metrics metrics(kAttestors, "1.2.3");
  std::string text = metrics.Scrape();

  for (const auto& [name, type] : families) {
    INFO(name);
    CHECK(text.find(Concat("\n# TYPE ", name, " ", type, "\n")) != std::string::npos);
    std::string help = Concat("# HELP ", name, " ");
    size_t start = text.find(help);
    REQUIRE(start != std::string::npos);
    CHECK(text.find('\n', start) > start + help.size());
  }
}

TEST_CASE("Every listed label combination is exported at zero from start-up", "[metrics]") {
  Metrics metrics(kAttestors, "1.2.3");
  Samples samples = ParseSamples(metrics.Scrape());
  Samples listed = ListedSeries();

  for (const auto& [series, value] : listed) {
    INFO(series);
    REQUIRE(samples.count(series) == 1);
    CHECK(samples[series] == value);
  }
  for (const auto& [series, value] : samples) {
    INFO(series);
    CHECK((listed.count(series) == 1 || IsHistogramPart(series)));
  }
  for (const char* histogram :
       {"reattest_attestation_duration_seconds_count{attestor=\"unix\"}",
        "reattest_attestation_duration_seconds_count{attestor=\"docker\"}",
        "reattest_retry_delay_seconds_count", "reattest_recovery_duration_seconds_count"}) {
    INFO(histogram);
    REQUIRE(samples.count(histogram) == 1);
    CHECK(samples[histogram] == 0);
  }
}

TEST_CASE("Recording an event moves its own series and no other", "[metrics]") {
  struct Case {
    const char* what;
    std::function<void(Metrics&)> record;
    Samples changes;
  };
  const std::vector<Case> cases = {
      {"reattestation",
       [](Metrics& m) { m.RecordReattestation("periodic"); },
       {{"reattest_reattestations_total{reason=\"periodic\"}", 1}}},
      {"workloads",
       [](Metrics& m) { m.SetWorkloads("degraded", 3); },
       {{"reattest_workloads{state=\"degraded\"}", 3}}},
      {"streams",
       [](Metrics& m) { m.SetStreams("sds", 5); },
       {{"reattest_streams{api=\"sds\"}", 5}}},
      {"stuck streams",
       [](Metrics& m) { m.SetStuckStreams("jwt_bundles", 2); },
       {{"reattest_stuck_streams{api=\"jwt_bundles\"}", 2}}},
      {"push",
       [](Metrics& m) { m.RecordPush("x509_svid"); },
       {{"reattest_pushes_total{api=\"x509_svid\"}", 1}}},
      {"rotation",
       [](Metrics& m) { m.RecordSvidRotation(); },
       {{"reattest_svid_rotations_total", 1}}},
      {"entries", [](Metrics& m) { m.SetEntries(7); }, {{"reattest_entries", 7}}},
      {"entries reload error",
       [](Metrics& m) { m.RecordEntriesReloadError(); },
       {{"reattest_entries_reload_errors_total", 1}}},
      {"config reload",
       [](Metrics& m) { m.RecordConfigReload(false); },
       {{"reattest_config_reloads_total{result=\"error\"}", 1}}},
      {"CA expiry",
       [](Metrics& m) {
         m.SetCaExpiry(std::chrono::system_clock::time_point(std::chrono::seconds(1900000000)));
       },
       {{"reattest_ca_expiry_timestamp_seconds", 1900000000}}},
      {"limit rejection",
       [](Metrics& m) { m.RecordLimitRejection("streams_per_connection"); },
       {{"reattest_limit_rejections_total{limit=\"streams_per_connection\"}", 1}}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Metrics metrics(kAttestors, "1.2.3");
    Samples before = ParseSamples(metrics.Scrape());
    c.record(metrics);
    CHECK(Changes(before, ParseSamples(metrics.Scrape())) == c.changes);
  }
}

TEST_CASE("An attestation counts its outcome and observes its duration for its attestor only",
          "[metrics]") {
  Metrics metrics(kAttestors, "1.2.3");
  Samples before = ParseSamples(metrics.Scrape());
  metrics.RecordAttestation("docker", Outcome::kTransientError, 0.003);
  Samples changes = Changes(before, ParseSamples(metrics.Scrape()));

  CHECK(changes["reattest_attestations_total{attestor=\"docker\",outcome=\"transient_error\"}"] ==
        1);
  CHECK(changes["reattest_attestation_duration_seconds_count{attestor=\"docker\"}"] == 1);
  CHECK(changes["reattest_attestation_duration_seconds_sum{attestor=\"docker\"}"] == Approx(0.003));
  CHECK(changes["reattest_attestation_duration_seconds_bucket{attestor=\"docker\",le=\"0.005\"}"] ==
        1);
  CHECK(changes.count("reattest_attestation_duration_seconds_bucket{attestor=\"docker\",le=\"0."
                      "0025\"}") == 0);
  for (const auto& [series, value] : changes) {
    INFO(series);
    CHECK(series.find("attestor=\"docker\"") != std::string::npos);
  }
}

TEST_CASE("Retry delays and recoveries land in their histograms", "[metrics]") {
  Metrics metrics(kAttestors, "1.2.3");
  Samples before = ParseSamples(metrics.Scrape());
  metrics.RecordRetryDelay(2.0);
  metrics.RecordRecovery(42.0);
  Samples changes = Changes(before, ParseSamples(metrics.Scrape()));

  CHECK(changes["reattest_retry_delay_seconds_count"] == 1);
  CHECK(changes["reattest_retry_delay_seconds_sum"] == 2.0);
  CHECK(changes["reattest_recoveries_total"] == 1);
  CHECK(changes["reattest_recovery_duration_seconds_count"] == 1);
  CHECK(changes["reattest_recovery_duration_seconds_sum"] == 42.0);
  for (const auto& [series, value] : changes) {
    INFO(series);
    CHECK((series.starts_with("reattest_retry_delay_seconds_") ||
           series.starts_with("reattest_recover")));
  }
}

TEST_CASE("The oldest degradation's age grows between scrapes without any update", "[metrics]") {
  FakeClock clock;
  Metrics metrics(kAttestors, "1.2.3", clock.Reader());
  const std::string gauge = "reattest_oldest_degraded_seconds";

  SECTION("it is 0 while no workload is degraded") {
    CHECK(ParseSamples(metrics.Scrape())[gauge] == 0);
    clock.now += std::chrono::seconds(30);
    CHECK(ParseSamples(metrics.Scrape())[gauge] == 0);
  }
  SECTION("it counts from the start of the degradation at every scrape") {
    metrics.SetOldestDegradedSince(clock.now - std::chrono::seconds(10));
    CHECK(ParseSamples(metrics.Scrape())[gauge] == 10);
    clock.now += std::chrono::milliseconds(5500);
    CHECK(ParseSamples(metrics.Scrape())[gauge] == 15.5);
  }
  SECTION("it returns to 0 when the degradation ends") {
    metrics.SetOldestDegradedSince(clock.now - std::chrono::seconds(10));
    metrics.SetOldestDegradedSince(std::nullopt);
    CHECK(ParseSamples(metrics.Scrape())[gauge] == 0);
  }
}

TEST_CASE("Unknown label values and invalid durations are ignored without new series",
          "[metrics]") {
  Metrics metrics(kAttestors, "1.2.3");
  std::string before = metrics.Scrape();

  metrics.RecordAttestation("k8s", Outcome::kOk, 0.1);  // not enabled
  metrics.RecordAttestation("unix", static_cast<Outcome>(42), 0.1);
  metrics.RecordReattestation("manual");
  metrics.SetWorkloads("zombie", 1);
  metrics.SetStreams("4242", 1);
  metrics.SetStuckStreams("", 1);
  metrics.RecordPush("spiffe://example.org/web");
  metrics.RecordLimitRejection("connections");
  metrics.RecordRetryDelay(-1);
  metrics.RecordRetryDelay(std::nan(""));

  CHECK(metrics.Scrape() == before);
}

// Runs `promtool check metrics` on `text`; returns its exit status and output.
std::pair<int, std::string> PromtoolCheck(const std::string& text) {
  char output_path[] = "/tmp/reattest-promtool-XXXXXX";
  int fd = mkstemp(output_path);
  REQUIRE(fd >= 0);
  close(fd);
  FILE* pipe = popen(Concat("promtool check metrics >", output_path, " 2>&1").c_str(), "w");
  REQUIRE(pipe != nullptr);
  fwrite(text.data(), 1, text.size(), pipe);
  int status = pclose(pipe);

  std::ifstream in(output_path);
  std::stringstream output;
  output << in.rdbuf();
  unlink(output_path);
  return {status, output.str()};
}

TEST_CASE("A scrape passes promtool check metrics", "[metrics]") {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    FAIL("promtool not found: run scripts/install-deps.sh (it installs Debian's prometheus)");
  }
  Metrics metrics(kAttestors, "1.2.3");
  metrics.RecordAttestation("unix", Outcome::kOk, 0.0004);
  metrics.RecordRetryDelay(0.5);
  metrics.RecordRecovery(12);
  metrics.SetOldestDegradedSince(SteadyClock::now());

  auto [status, output] = PromtoolCheck(metrics.Scrape());
  INFO(output);
  CHECK(status == 0);
  CHECK(output.empty());
}

// A GET against the endpoint over real HTTP.
httplib::Result Get(const HttpEndpoint& endpoint, const std::string& path) {
  httplib::Client client("127.0.0.1", endpoint.port());
  client.set_connection_timeout(5);
  return client.Get(path.c_str());
}

TEST_CASE("The HTTP endpoint serves metrics and the caller's routes on a chosen port",
          "[metrics]") {
  Metrics metrics(kAttestors, "1.2.3");
  auto not_ready = [] { return HttpResponse{503, "text/plain", "not ready\n"}; };
  std::vector<Route> routes = {
      MetricsRoute(metrics),
      {"/readyz", not_ready},
      {"/v1.0", [] { return HttpResponse{}; }},
  };
  absl::StatusOr<std::unique_ptr<HttpEndpoint>> endpoint =
      HttpEndpoint::Start("127.0.0.1:0", std::move(routes));
  REQUIRE(endpoint.ok());
  REQUIRE((*endpoint)->port() > 0);

  SECTION("/metrics answers the scrape in the text format") {
    httplib::Result result = Get(**endpoint, "/metrics");
    REQUIRE(result);
    CHECK(result->status == 200);
    CHECK(result->get_header_value("Content-Type") == "text/plain; version=0.0.4");
    CHECK(result->body.find("reattest_build_info{version=\"1.2.3\"} 1") != std::string::npos);
  }
  SECTION("a caller's route answers with its own status and body") {
    httplib::Result result = Get(**endpoint, "/readyz");
    REQUIRE(result);
    CHECK(result->status == 503);
    CHECK(result->body == "not ready\n");
  }
  SECTION("an unknown path is 404") {
    httplib::Result result = Get(**endpoint, "/debug/nothing");
    REQUIRE(result);
    CHECK(result->status == 404);
  }
  SECTION("a route's path is matched literally, not as a pattern") {
    CHECK(Get(**endpoint, "/v1.0")->status == 200);
    CHECK(Get(**endpoint, "/v1x0")->status == 404);
  }
  SECTION("after Stop, twice, nothing answers") {
    int port = (*endpoint)->port();
    (*endpoint)->Stop();
    (*endpoint)->Stop();
    httplib::Client client("127.0.0.1", port);
    CHECK_FALSE(static_cast<bool>(client.Get("/metrics")));
  }
}

TEST_CASE("Starting on an address already in use fails with an error naming it", "[metrics]") {
  absl::StatusOr<std::unique_ptr<HttpEndpoint>> first = HttpEndpoint::Start("127.0.0.1:0", {});
  REQUIRE(first.ok());
  std::string listen = Concat("127.0.0.1:", (*first)->port());

  absl::StatusOr<std::unique_ptr<HttpEndpoint>> second = HttpEndpoint::Start(listen, {});
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(second.status().message()).find(listen) != std::string::npos);
}

TEST_CASE("A malformed listen address is rejected before binding", "[metrics]") {
  for (const char* bad : {"localhost", ":9988", "127.0.0.1:99999", "::1:9988", "127.0.0.1:-1"}) {
    INFO(bad);
    absl::StatusOr<std::unique_ptr<HttpEndpoint>> endpoint = HttpEndpoint::Start(bad, {});
    REQUIRE_FALSE(endpoint.ok());
    CHECK(endpoint.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(endpoint.status().message()).find(bad) != std::string::npos);
  }
}

}  // namespace
}  // namespace reattest::metrics
