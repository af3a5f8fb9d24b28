#include "cli/api_fetch.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>

#include "cli/pem.h"
#include "cli/x509_client.h"
#include "common/strings.h"

namespace reattest::cli {
namespace {

absl::Status WriteFile(const std::string& path, const std::string& contents, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out || chmod(path.c_str(), mode) != 0) {
    return absl::InternalError(Concat("cannot write ", path));
  }
  return absl::OkStatus();
}

// One SVID as files named as SPIRE's `api fetch x509 -write` names them.
absl::Status WriteSvid(const std::string& dir, size_t index, const X509SVID& svid,
                       const std::vector<CertificateSummary>& chain,
                       const std::vector<CertificateSummary>& bundle) {
  absl::StatusOr<std::string> key = PrivateKeyPem(svid.x509_svid_key());
  if (!key.ok()) {
    return key.status();
  }
  std::string prefix = Concat(dir, "/");
  for (auto [name, contents, mode] :
       {std::tuple{Concat("svid.", index, ".pem"), JoinPem(chain), 0644},
        std::tuple{Concat("svid.", index, ".key"), *key, 0600},
        std::tuple{Concat("bundle.", index, ".pem"), JoinPem(bundle), 0644}}) {
    if (absl::Status status = WriteFile(prefix + name, contents, mode); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

// federated_bundle.N.M.pem for SVID N: the federated bundles in trust
// domain ID order, as SPIRE's CLI numbers them.
absl::Status WriteFederated(const std::string& dir, size_t index,
                            const X509SVIDResponse& response) {
  std::map<std::string, std::string> ordered(response.federated_bundles().begin(),
                                             response.federated_bundles().end());
  size_t number = 0;
  for (const auto& [id, der] : ordered) {
    absl::StatusOr<std::vector<CertificateSummary>> bundle = ParseDerCertificates(der);
    if (!bundle.ok()) {
      return absl::InvalidArgumentError(Concat("agent sent a malformed bundle for ", id));
    }
    std::string path = Concat(dir, "/federated_bundle.", index, ".", number++, ".pem");
    if (absl::Status status = WriteFile(path, JoinPem(*bundle), 0644); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status PrintSvid(const FetchOptions& options, size_t index, const X509SVID& svid) {
  absl::StatusOr<std::vector<CertificateSummary>> chain = ParseDerCertificates(svid.x509_svid());
  absl::StatusOr<std::vector<CertificateSummary>> bundle = ParseDerCertificates(svid.bundle());
  if (!chain.ok() || !bundle.ok() || chain->empty()) {
    return absl::InvalidArgumentError("agent sent a malformed SVID or bundle");
  }
  std::printf("SPIFFE ID:\t\t%s\n", svid.spiffe_id().c_str());
  if (!svid.hint().empty()) {
    std::printf("Hint:\t\t\t%s\n", svid.hint().c_str());
  }
  std::printf("SVID Valid After:\t%s\n", chain->front().not_before.c_str());
  std::printf("SVID Valid Until:\t%s\n", chain->front().not_after.c_str());
  for (size_t i = 0; i < bundle->size(); ++i) {
    std::printf("CA #%zu Valid After:\t%s\n", i + 1, (*bundle)[i].not_before.c_str());
    std::printf("CA #%zu Valid Until:\t%s\n", i + 1, (*bundle)[i].not_after.c_str());
  }
  std::printf("\n");
  if (options.write_dir.empty()) {
    return absl::OkStatus();
  }
  return WriteSvid(options.write_dir, index, svid, *chain, *bundle);
}

}  // namespace

int FetchX509(const FetchOptions& options) {
  auto started = std::chrono::steady_clock::now();
  X509Client client(options.socket_path, options.timeout);
  X509SVIDResponse response;
  if (!client.Next(response)) {
    std::fprintf(stderr, "fetch x509 from %s failed: %s\n", options.socket_path.c_str(),
                 client.Finish().c_str());
    return 1;
  }
  client.Cancel();
  double elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::printf("Received %d svid after %.3fms\n\n", response.svids_size(), elapsed_ms);
  for (int i = 0; i < response.svids_size(); ++i) {
    absl::Status status = PrintSvid(options, static_cast<size_t>(i), response.svids(i));
    if (status.ok() && !options.write_dir.empty()) {
      status = WriteFederated(options.write_dir, static_cast<size_t>(i), response);
    }
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
      return 1;
    }
  }
  if (!options.write_dir.empty()) {
    std::printf("Writing SVIDs to %s\n", options.write_dir.c_str());
  }
  return 0;
}

}  // namespace reattest::cli
