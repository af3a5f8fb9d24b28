#include "cli/api_watch.h"

#include <chrono>
#include <cstdio>
#include <map>

#include "cli/pem.h"
#include "cli/x509_client.h"

namespace reattest::cli {
namespace {

struct SvidSummary {
  std::string leaf_pem;  // identifies a rotation
  std::string not_after;
};

std::map<std::string, SvidSummary> Summarize(const X509SVIDResponse& response) {
  std::map<std::string, SvidSummary> svids;
  for (const X509SVID& svid : response.svids()) {
    absl::StatusOr<std::vector<CertificateSummary>> chain = ParseDerCertificates(svid.x509_svid());
    SvidSummary summary;
    if (chain.ok() && !chain->empty()) {
      summary = {chain->front().pem, chain->front().not_after};
    }
    svids.emplace(svid.spiffe_id(), std::move(summary));
  }
  return svids;
}

// One line per SPIFFE ID that was added (+), rotated (~) or removed (-).
void PrintChanges(const std::map<std::string, SvidSummary>& before,
                  const std::map<std::string, SvidSummary>& after) {
  for (const auto& [id, svid] : after) {
    auto old = before.find(id);
    if (old == before.end()) {
      std::printf("  + %s  expires %s\n", id.c_str(), svid.not_after.c_str());
    } else if (old->second.leaf_pem != svid.leaf_pem) {
      std::printf("  ~ %s  rotated, expires %s\n", id.c_str(), svid.not_after.c_str());
    }
  }
  for (const auto& [id, svid] : before) {
    if (!after.contains(id)) {
      std::printf("  - %s\n", id.c_str());
    }
  }
}

}  // namespace

int WatchX509(const std::string& socket_path) {
  auto started = std::chrono::steady_clock::now();
  X509Client client(socket_path, std::nullopt);
  std::map<std::string, SvidSummary> current;
  X509SVIDResponse response;
  for (int update = 1; client.Next(response); ++update) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::map<std::string, SvidSummary> next = Summarize(response);
    std::printf("update %d after %.3fs: %d svids\n", update, seconds, response.svids_size());
    PrintChanges(current, next);
    std::fflush(stdout);
    current = std::move(next);
  }
  std::printf("stream ended: %s\n", client.Finish().c_str());
  return 1;
}

}  // namespace reattest::cli
