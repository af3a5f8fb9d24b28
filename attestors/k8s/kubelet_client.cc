#include "attestors/k8s/kubelet_client.h"

#include <httplib.h>
#include <openssl/x509.h>

#include "absl/status/status.h"
#include "attestors/http_deadline.h"
#include "common/process.h"
#include "common/strings.h"

namespace reattest::attestors {
namespace {

// Error bodies are quoted in messages up to this length.
constexpr size_t kMaxQuotedBody = 200;

bool IsHttps(const std::string& url) { return url.starts_with("https://"); }

// A client for `options.kubelet_url`: a bearer token and, unless told to
// skip it, the kubelet's certificate verified against `ca_path`.
absl::StatusOr<std::unique_ptr<httplib::Client>> MakeClient(const K8sOptions& options) {
  auto client = std::make_unique<httplib::Client>(options.kubelet_url);
  if (!client->is_valid()) {
    return absl::InvalidArgumentError("not a usable URL");
  }
  client->set_connection_timeout(options.timeout);
  client->set_read_timeout(options.timeout);
  client->set_write_timeout(options.timeout);
  if (!IsHttps(options.kubelet_url)) {
    return client;  // the read-only port takes no token
  }

  absl::StatusOr<std::string> token = ReadSmallFile(options.token_path);
  if (!token.ok()) {
    return absl::UnavailableError(Concat("bearer token: ", token.status().message()));
  }
  client->set_bearer_token_auth(std::string(Trim(*token)));
  client->enable_server_certificate_verification(!options.skip_kubelet_verification);
  if (!options.skip_kubelet_verification) {
    client->set_ca_cert_path(options.ca_path);
  }
  return client;
}

// What went wrong with a request that got no HTTP answer.
std::string TransportFailure(const httplib::Result& result, const httplib::Client& client) {
  if (result.error() == httplib::Error::SSLServerVerification) {
    return Concat("kubelet certificate not verified: ",
                  X509_verify_cert_error_string(client.get_openssl_verify_result()));
  }
  return httplib::to_string(result.error());
}

}  // namespace

absl::StatusOr<std::shared_ptr<const PodList>> KubeletClient::FetchPods() const {
  std::string request = Concat("GET ", options_.kubelet_url, "/pods");
  absl::StatusOr<std::unique_ptr<httplib::Client>> client = MakeClient(options_);
  if (!client.ok()) {
    return absl::Status(client.status().code(), Concat(request, ": ", client.status().message()));
  }

  RequestDeadline deadline(**client, options_.timeout);
  httplib::Result result = (*client)->Get("/pods");
  bool expired = deadline.Disarm();

  if (expired || result.error() == httplib::Error::ConnectionTimeout) {
    return absl::DeadlineExceededError(
        Concat(request, ": timed out after ", FormatDuration(options_.timeout)));
  }
  if (!result) {
    return absl::UnavailableError(Concat(request, ": ", TransportFailure(result, **client)));
  }
  if (result->status != 200) {
    return absl::UnavailableError(Concat(request, ": HTTP ", result->status, ": ",
                                         Trim(result->body.substr(0, kMaxQuotedBody))));
  }

  absl::StatusOr<PodList> pods = ParsePodList(result->body);
  if (!pods.ok()) {
    return absl::Status(pods.status().code(), Concat(request, ": ", pods.status().message()));
  }
  return std::make_shared<const PodList>(*std::move(pods));
}

}  // namespace reattest::attestors
