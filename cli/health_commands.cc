#include "cli/health_commands.h"

#include <httplib.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace reattest::cli {
namespace {

constexpr time_t kTimeoutSeconds = 3;

httplib::Client MakeClient(const std::string& url) {
  httplib::Client client(url);
  client.set_connection_timeout(kTimeoutSeconds);
  client.set_read_timeout(kTimeoutSeconds);
  return client;
}

// The body of a 200 answer, or nullopt after printing why not.
std::optional<std::string> Get(httplib::Client& client, const std::string& url,
                               const std::string& path) {
  httplib::Result result = client.Get(path.c_str());
  if (!result) {
    std::fprintf(stderr, "%s%s: %s\n", url.c_str(), path.c_str(),
                 httplib::to_string(result.error()).c_str());
    return std::nullopt;
  }
  if (result->status != 200) {
    std::fprintf(stderr, "%s%s: HTTP %d: %s", url.c_str(), path.c_str(), result->status,
                 result->body.c_str());
    return std::nullopt;
  }
  return result->body;
}

std::string Describe(const nlohmann::json& workload) {
  std::string where = workload.value("container_id", "");
  if (where.empty()) {
    where = workload.value("pod_uid", "");
  }
  return where.empty() ? "-" : where.substr(0, 12);
}

std::string NextRetry(const nlohmann::json& workload) {
  const nlohmann::json& next = workload["next_attestation_ms"];
  return next.is_null() ? "-" : Concat(next.get<int64_t>(), "ms");
}

std::string JoinArray(const nlohmann::json& values) {
  std::vector<std::string> pieces;
  for (const nlohmann::json& value : values) {
    pieces.push_back(value.get<std::string>());
  }
  return pieces.empty() ? "-" : Join(pieces, ",");
}

}  // namespace

int Healthcheck(const std::string& url) {
  httplib::Client client = MakeClient(url);
  for (const char* path : {"/healthz", "/readyz"}) {
    if (!Get(client, url, path)) {
      return 1;
    }
  }
  std::printf("ok\n");
  return 0;
}

int DebugWorkloads(const std::string& url) {
  httplib::Client client = MakeClient(url);
  std::optional<std::string> body = Get(client, url, "/debug/workloads");
  if (!body) {
    return 1;
  }
  nlohmann::json workloads = nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false);
  if (!workloads.is_array()) {
    std::fprintf(stderr, "%s/debug/workloads: not a JSON array\n", url.c_str());
    return 1;
  }
  std::printf("%-8s %-12s %-10s %-7s %-11s %-7s %s\n", "PID", "CONTAINER", "STATE", "ATTEMPT",
              "NEXT", "STREAMS", "SPIFFE IDS / SELECTORS");
  for (const nlohmann::json& workload : workloads) {
    std::printf("%-8d %-12s %-10s %-7d %-11s %-7zu %s\n", workload.value("pid", 0),
                Describe(workload).c_str(), workload.value("state", "?").c_str(),
                workload.value("attempt", 0), NextRetry(workload).c_str(),
                workload.value("streams", size_t{0}), JoinArray(workload["spiffe_ids"]).c_str());
    std::printf("%59s %s\n", "", JoinArray(workload["selectors"]).c_str());
  }
  return 0;
}

}  // namespace reattest::cli
