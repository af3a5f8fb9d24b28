// End to end, for operators: the metrics scrape, health endpoints and their
// CLI, the debug view, the gRPC health service and the per-user limits.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <future>

#include "tests/support/agent_fixture.h"
#include "tests/support/ports.h"
#include "tests/support/sds_client.h"
#include "tests/support/wait.h"
#include "tests/support/workload_client.h"

namespace reattest::testing {
namespace {

const std::string kRootEntries = EntriesYaml({{"/root", "unix:uid:0"}});

struct Listeners {
  int metrics_port = FreeLoopbackPort();
  int health_port = FreeLoopbackPort();

  std::string Config() const {
    return "metrics: {listen: 127.0.0.1:" + std::to_string(metrics_port) + "}\n" +
           "health: {listen: 127.0.0.1:" + std::to_string(health_port) + "}\n";
  }
  std::string HealthUrl() const { return "http://127.0.0.1:" + std::to_string(health_port); }
};

std::string Get(int port, const std::string& path, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  httplib::Result result = client.Get(path.c_str());
  if (status != nullptr) {
    *status = result ? result->status : 0;
  }
  return result ? result->body : "";
}

// The value of one exact series line in a scrape, or -1 if absent.
double Series(const std::string& scrape, const std::string& series) {
  size_t at = scrape.find("\n" + series + " ");
  if (at == std::string::npos) {
    return -1;
  }
  return std::stod(scrape.substr(at + series.size() + 2));
}

// Runs promtool on `text`; returns its exit status.
int Promtool(const std::string& text, const std::string& args) {
  FILE* pipe = popen(("promtool " + args + " >/dev/null 2>&1").c_str(), "w");
  if (pipe == nullptr) {
    return -1;
  }
  std::fwrite(text.data(), 1, text.size(), pipe);
  return pclose(pipe);
}

TEST_CASE("The metrics scrape has every series at 0 from start and passes promtool",
          "[e2e][metrics]") {
  Listeners listeners;
  AgentFixture fixture(kRootEntries, listeners.Config());
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  std::string scrape = Get(listeners.metrics_port, "/metrics");
  for (const char* series : {
           "reattest_attestations_total{attestor=\"unix\",outcome=\"transient_error\"}",
           "reattest_reattestations_total{reason=\"retry\"}",
           "reattest_workloads{state=\"degraded\"}",
           "reattest_stuck_streams{api=\"x509_svid\"}",
           "reattest_oldest_degraded_seconds",
       }) {
    INFO(series);
    CHECK(Series(scrape, series) == 0);
  }
  CHECK(Series(scrape, "reattest_entries") == 1);
  CHECK(Promtool(scrape, "check metrics") == 0);
}

TEST_CASE("Metrics follow an open stream", "[e2e][metrics]") {
  Listeners listeners;
  AgentFixture fixture(kRootEntries, listeners.Config());
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  X509Stream stream(fixture.socket());
  REQUIRE(stream.Next());
  CHECK(WaitFor([&] {
    std::string scrape = Get(listeners.metrics_port, "/metrics");
    return Series(scrape, "reattest_streams{api=\"x509_svid\"}") == 1 &&
           Series(scrape, "reattest_workloads{state=\"complete\"}") == 1 &&
           Series(scrape, "reattest_pushes_total{api=\"x509_svid\"}") == 1 &&
           Series(scrape, "reattest_attestations_total{attestor=\"unix\",outcome=\"ok\"}") >= 1;
  }));
}

TEST_CASE("Metrics count SDS streams and their pushes", "[e2e][metrics][sds]") {
  Listeners listeners;
  AgentFixture fixture(kRootEntries, listeners.Config());
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  SotwSdsClient client(fixture.socket());
  client.Subscribe({"default"});
  REQUIRE(client.Next());
  CHECK(WaitFor([&] {
    std::string scrape = Get(listeners.metrics_port, "/metrics");
    return Series(scrape, "reattest_streams{api=\"sds\"}") == 1 &&
           Series(scrape, "reattest_stuck_streams{api=\"sds\"}") == 0 &&
           Series(scrape, "reattest_pushes_total{api=\"sds\"}") == 1;
  }));
}

TEST_CASE("Health endpoints and reattest healthcheck report a serving agent", "[e2e][health]") {
  Listeners listeners;
  AgentFixture fixture(kRootEntries, listeners.Config());
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  int status = 0;
  // The socket accepts (kernel backlog) a moment before the loop starts serving.
  CHECK(WaitFor([&] { return Get(listeners.health_port, "/readyz", &status) == "ready\n"; }));
  CHECK(status == 200);
  CHECK(Get(listeners.health_port, "/healthz", &status) == "ok\n");
  CHECK(status == 200);
  std::string output;
  CHECK(RunReattest({"healthcheck", "--url", listeners.HealthUrl()}, &output) == 0);

  agent->Signal(SIGTERM);
  REQUIRE(agent->WaitExit() == 0);
  output.clear();
  CHECK(RunReattest({"healthcheck", "--url", listeners.HealthUrl()}, &output) == 1);
}

TEST_CASE("The debug view shows each workload with its state and identities", "[e2e][health]") {
  Listeners listeners;
  AgentFixture fixture(kRootEntries, listeners.Config());
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  X509Stream stream(fixture.socket());
  REQUIRE(stream.Next());

  std::string body = Get(listeners.health_port, "/debug/workloads");
  CHECK(body.find("\"pid\": " + std::to_string(getpid())) != std::string::npos);
  CHECK(body.find("\"state\": \"complete\"") != std::string::npos);
  CHECK(body.find("spiffe://example.org/root") != std::string::npos);
  CHECK(body.find("unix:uid:0") != std::string::npos);

  std::string output;
  CHECK(RunReattest({"debug", "workloads", "--url", listeners.HealthUrl()}, &output) == 0);
  CHECK(output.find("complete") != std::string::npos);
}

TEST_CASE("The gRPC health service answers on the Workload API socket", "[e2e][health]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  auto channel = UnixChannel(fixture.socket());
  grpc::ByteBuffer request;
  grpc::ClientContext context;
  // grpc.health.v1.HealthCheckRequest{service: ""} is the empty message.
  grpc::GenericStub stub(channel);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  grpc::Slice empty;
  grpc::ByteBuffer empty_request(&empty, 1);
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &empty_request,
                 &response, [&](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  CHECK(status.ok());
  std::vector<grpc::Slice> slices;
  REQUIRE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  // HealthCheckResponse{status: SERVING (1)}: field 1, varint 1.
  CHECK(bytes == std::string("\x08\x01", 2));
}

TEST_CASE("Connections beyond the per-user limit are refused with ResourceExhausted",
          "[e2e][limits]") {
  AgentFixture fixture(kRootEntries, "limits: {max_connections_per_uid: 1}\n");
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  X509Stream first(fixture.socket());
  REQUIRE(first.Next());
  X509Stream second(fixture.socket());
  grpc::Status status = second.Finish();
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_FALSE(first.ended());
}

TEST_CASE("Streams beyond the per-connection limit are refused with ResourceExhausted",
          "[e2e][limits]") {
  AgentFixture fixture(kRootEntries, "limits: {max_streams_per_connection: 2}\n");
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  auto channel = UnixChannel(fixture.socket());
  X509Stream first(channel);
  X509Stream second(channel);
  REQUIRE(first.Next());
  REQUIRE(second.Next());
  X509Stream third(channel);
  grpc::Status status = third.Finish();
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(status.error_message() == "too many streams on this connection (limit 2)");
}

}  // namespace
}  // namespace reattest::testing
