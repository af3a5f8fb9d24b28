// The benchmark load generator. One binary drives both servers, reattest and
// the bare baseline, through the same client code, and prints `key=value`
// lines that bench/run.sh collects. `--api x509` (the default) opens
// FetchX509SVID streams, `--api sds` Envoy's StreamSecrets.
//
//   bench_load capture  --api A --socket S --out FILE
//   bench_load latency  --api A --socket S --connections N
//   bench_load streams  --api A --socket S --server-pid P --streams N
//                       --per-connection K --idle-seconds T --trigger 'shell command'
//   bench_load recovery --socket S --docker-socket D --expect-id ID
//   bench_load storm    --socket S --docker-socket D --expect-id ID
//                       --cgroups FILE --streams-per-container K
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "bench/fake_docker.h"
#include "bench/proc_stats.h"
#include "bench/stream_fleet.h"

namespace reattest::bench {
namespace {

using std::chrono::milliseconds;

std::map<std::string, std::string> ParseFlags(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 2; i + 1 < argc; i += 2) {
    flags[std::string(argv[i]).substr(2)] = argv[i + 1];
  }
  return flags;
}

double Milliseconds(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The q-quantile (0..1) of `values`, which it sorts.
double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) {
    return -1;
  }
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(q * static_cast<double>(values.size() - 1))];
}

void Print(const std::string& key, double value) { std::printf("%s=%.4f\n", key.c_str(), value); }

template <typename Message>
int Capture(std::map<std::string, std::string>& flags) {
  StreamFleet<Message> fleet;
  fleet.Open(flags["socket"], 1, 1);
  if (!fleet.WaitAll(1, milliseconds(10000))) {
    std::fprintf(stderr, "capture: no response from %s\n", flags["socket"].c_str());
    return 1;
  }
  std::ofstream(flags["out"], std::ios::binary) << fleet.Last(0).SerializeAsString();
  Print("response_bytes", static_cast<double>(fleet.Last(0).ByteSizeLong()));
  return 0;
}

// A fresh connection each time: connect, open the stream, first message.
template <typename Message>
int Latency(std::map<std::string, std::string>& flags) {
  int connections = std::stoi(flags["connections"]);
  std::vector<double> samples;
  for (int i = 0; i < connections; ++i) {
    Clock::time_point start = Clock::now();
    StreamFleet<Message> fleet;
    fleet.Open(flags["socket"], 1, 1);
    if (!fleet.WaitAll(1, milliseconds(10000))) {
      std::fprintf(stderr, "latency: connection %d got no response\n", i);
      return 1;
    }
    samples.push_back(Milliseconds(fleet.ArrivalsOf(1)[0] - start));
  }
  Print("first_response_p50_ms", Quantile(samples, 0.5));
  Print("first_response_p99_ms", Quantile(samples, 0.99));
  return 0;
}

// Memory and idle CPU with many open streams, then one change fanned out to
// all of them.
template <typename Message>
int Streams(std::map<std::string, std::string>& flags) {
  pid_t server = std::stoi(flags["server-pid"]);
  int count = std::stoi(flags["streams"]);
  long rss_before = ResidentBytes(server);

  StreamFleet<Message> fleet;
  fleet.Open(flags["socket"], count, std::stoi(flags["per-connection"]));
  if (!fleet.WaitAll(1, milliseconds(120000))) {
    std::fprintf(stderr, "streams: not every stream got its first message\n");
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let allocations settle
  long rss_after = ResidentBytes(server);
  Print("rss_per_stream_bytes", static_cast<double>(rss_after - rss_before) / count);

  double cpu_before = CpuSeconds(server);
  std::this_thread::sleep_for(std::chrono::seconds(std::stoi(flags["idle-seconds"])));
  Print("idle_cpu_seconds", CpuSeconds(server) - cpu_before);

  Clock::time_point trigger = Clock::now();
  if (std::system(flags["trigger"].c_str()) != 0) {
    std::fprintf(stderr, "streams: trigger failed\n");
    return 1;
  }
  bool all = fleet.WaitAll(2, milliseconds(30000));
  std::vector<double> delays;
  for (Clock::time_point arrival : fleet.ArrivalsOf(2)) {
    delays.push_back(Milliseconds(arrival - trigger));
  }
  Print("fanout_reached", static_cast<double>(delays.size()));
  Print("fanout_p50_ms", Quantile(delays, 0.5));
  Print("fanout_all_ms", all ? delays.back() : -1);
  // From the first stream's message to the last one's: the fan-out itself,
  // without what precedes it (reattest waits out the entries file's quiet
  // period and rebuilds its snapshot; the baseline takes a signal).
  Print("fanout_spread_ms", all ? delays.back() - delays.front() : -1);
  return all ? 0 : 1;
}

// Whether the latest message of every stream of the fleet lists `id`.
bool AllHave(X509Fleet& fleet, int streams, const std::string& id) {
  for (int i = 0; i < streams; ++i) {
    bool has = false;
    X509SVIDResponse last = fleet.Last(i);
    for (const X509SVID& svid : last.svids()) {
      has = has || svid.spiffe_id() == id;
    }
    if (!has) {
      return false;
    }
  }
  return true;
}

// This process sits in a container's cgroup (run.sh puts it there). The fake
// Docker API fails until the first message (the partial set) arrives, then
// heals; the full set must follow on the same stream.
int Recovery(std::map<std::string, std::string>& flags) {
  FakeDocker docker(flags["docker-socket"]);
  X509Fleet fleet;
  fleet.Open(flags["socket"], 1, 1);
  if (!fleet.WaitAll(1, milliseconds(10000))) {
    std::fprintf(stderr, "recovery: no partial set\n");
    return 1;
  }
  Clock::time_point healed = Clock::now();
  docker.SetHealthy(true);
  if (!fleet.WaitAll(2, milliseconds(10000))) {
    std::fprintf(stderr, "recovery: the full set never came\n");
    return 1;
  }
  if (!AllHave(fleet, 1, flags["expect-id"])) {
    std::fprintf(stderr, "recovery: second message lacks %s\n", flags["expect-id"].c_str());
    return 1;
  }
  Clock::time_point arrived = fleet.ArrivalsOf(2)[0];
  Clock::time_point lookup{Clock::duration(docker.last_ok_ns())};
  Print("heal_to_full_set_ms", Milliseconds(arrived - healed));
  Print("lookup_to_client_ms", Milliseconds(arrived - lookup));
  return 0;
}

// One container's process in the storm: joins its cgroup when told to go,
// opens its streams, and reports 'p' once every stream has the partial set
// and 'f' once every stream has the full one. Exits when `go` closes.
[[noreturn]] void StormContainer(std::map<std::string, std::string>& flags,
                                 const std::string& cgroup_procs, int go, int report) {
  char byte;
  int fd = open(cgroup_procs.c_str(), O_WRONLY | O_CLOEXEC);
  if (read(go, &byte, 1) != 1 || fd < 0 || write(fd, "0", 1) != 1) {
    _exit(1);
  }
  close(fd);
  int streams = std::stoi(flags["streams-per-container"]);
  {
    X509Fleet fleet;
    fleet.Open(flags["socket"], streams, streams);
    bool partial = fleet.WaitAll(1, milliseconds(60000));
    if (!partial || write(report, "p", 1) != 1) {
      _exit(1);
    }
    bool full =
        fleet.WaitAll(2, milliseconds(60000)) && AllHave(fleet, streams, flags["expect-id"]);
    if (!full || write(report, "f", 1) != 1) {
      _exit(1);
    }
    while (read(go, &byte, 1) > 0) {
    }
  }
  _exit(0);
}

// Reads one report byte from each of `count` containers.
bool AwaitReports(int report, int count) {
  char byte;
  for (int i = 0; i < count; ++i) {
    if (read(report, &byte, 1) != 1) {
      return false;
    }
  }
  return true;
}

// The recovery storm: many containers, each with many streams, degraded
// together by a failing Docker API that then heals at once. Children are
// forked before this process starts any thread (gRPC's or the fake's).
int Storm(std::map<std::string, std::string>& flags) {
  std::vector<std::string> cgroups;
  std::ifstream list(flags["cgroups"]);
  for (std::string line; std::getline(list, line);) {
    cgroups.push_back(line + "/cgroup.procs");
  }
  int go[2], report[2];
  if (pipe(go) != 0 || pipe(report) != 0) {
    return 1;
  }
  std::vector<pid_t> children;
  for (const std::string& procs : cgroups) {
    pid_t child = fork();
    if (child == 0) {
      close(go[1]);
      close(report[0]);
      StormContainer(flags, procs, go[0], report[1]);
    }
    children.push_back(child);
  }
  close(go[0]);
  close(report[1]);

  FakeDocker docker(flags["docker-socket"]);
  std::string starts(cgroups.size(), 'g');
  bool partial =
      write(go[1], starts.data(), starts.size()) == static_cast<ssize_t>(starts.size()) &&
      AwaitReports(report[0], static_cast<int>(cgroups.size()));
  long inspects_before = docker.inspects();
  Clock::time_point healed = Clock::now();
  docker.SetHealthy(true);
  bool full = partial && AwaitReports(report[0], static_cast<int>(cgroups.size()));
  double took = Milliseconds(Clock::now() - healed);

  close(go[1]);
  for (pid_t child : children) {
    waitpid(child, nullptr, 0);
  }
  if (!full) {
    std::fprintf(stderr, "storm: not every container got its partial and then its full set\n");
    return 1;
  }
  Print("containers", static_cast<double>(cgroups.size()));
  Print("heal_to_all_full_ms", took);
  Print("inspects_in_round", static_cast<double>(docker.inspects() - inspects_before));
  return 0;
}

using Mode = int (*)(std::map<std::string, std::string>&);

// The mode for the stream API named by --api.
Mode ForApi(Mode x509, Mode sds, std::map<std::string, std::string>& flags) {
  auto api = flags.find("api");
  if (api == flags.end() || api->second == "x509") {
    return x509;
  }
  return api->second == "sds" ? sds : nullptr;
}

}  // namespace
}  // namespace reattest::bench

int main(int argc, char** argv) {
  using namespace reattest::bench;
  // The same Abseil setting as both servers (NOTES: deadlock detection).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto flags = ParseFlags(argc, argv);
  const std::map<std::string, Mode> modes = {
      {"capture", ForApi(Capture<X509SVIDResponse>, Capture<DiscoveryResponse>, flags)},
      {"latency", ForApi(Latency<X509SVIDResponse>, Latency<DiscoveryResponse>, flags)},
      {"streams", ForApi(Streams<X509SVIDResponse>, Streams<DiscoveryResponse>, flags)},
      {"recovery", Recovery},
      {"storm", Storm}};
  auto mode = modes.find(argc > 1 ? argv[1] : "");
  if (mode == modes.end() || mode->second == nullptr) {
    std::fprintf(stderr,
                 "usage: bench_load capture|latency|streams|recovery|storm [--api x509|sds] "
                 "--flag value ...\n");
    return 2;
  }
  return mode->second(flags);
}
