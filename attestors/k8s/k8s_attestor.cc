#include "attestors/k8s/k8s_attestor.h"

#include <cstdlib>
#include <optional>

#include "absl/status/status.h"
#include "attestors/container_lookup.h"
#include "attestors/k8s/kubelet_client.h"
#include "common/strings.h"

namespace reattest::attestors {

bool IsPodContainer(const CgroupInfo& cgroups) {
  if (cgroups.container_id.empty()) {
    return false;
  }
  return !cgroups.pod_uid.empty() || cgroups.runtime == CgroupInfo::Runtime::kCrio;
}

absl::StatusOr<std::unique_ptr<K8sAttestor>> K8sAttestor::Create(const K8sOptions& options) {
  if (options.timeout <= Duration::zero()) {
    return absl::InvalidArgumentError("timeout must be positive");
  }
  const char* node_name = std::getenv(options.node_name_env.c_str());
  auto client = std::make_shared<const KubeletClient>(options);
  return std::make_unique<K8sAttestor>(options, node_name == nullptr ? "" : node_name,
                                       [client] { return client->FetchPods(); });
}

K8sAttestor::K8sAttestor(const K8sOptions& options, std::string node_name,
                         PodListFetcher::FetchFunction fetch, PodListFetcher::Clock clock)
    : options_(options),
      node_name_(std::move(node_name)),
      clock_(clock),
      fetcher_(std::move(fetch), options.kubelet_min_interval, options.timeout, std::move(clock)) {}

AttestResult K8sAttestor::Attest(const AttestRequest& request) {
  Recognition recognition = RecogniseContainer(request, IsPodContainer);
  if (!recognition.recognised) {
    return recognition.result;
  }
  return Lookup(request, std::move(recognition.result));
}

// A PodList fetched before the process started cannot list it; rather than
// fail (and degrade the workload until a retry), wait for a newer one.
PodListFetcher::Fetched K8sAttestor::FetchFor(const AttestRequest& request,
                                              const AttestResult& result) {
  PodListFetcher::Fetched fetched = fetcher_.Get();
  if (!fetched.pods.ok()) {
    return fetched;
  }
  absl::StatusOr<std::optional<ContainerMatch>> match =
      FindContainer(**fetched.pods, result.container_id, result.pod_uid);
  absl::StatusOr<Duration> age = ProcessAge(request);
  if (!match.ok() || match->has_value() || !age.ok()) {
    return fetched;
  }
  PodListFetcher::TimePoint process_started = clock_() - *age;
  if (fetched.started >= process_started) {
    return fetched;
  }
  return fetcher_.Get(process_started);
}

AttestResult K8sAttestor::Lookup(const AttestRequest& request, AttestResult result) {
  PodListFetcher::Fetched fetched = FetchFor(request, result);
  if (!fetched.pods.ok()) {
    return WithOutcome(Outcome::kTransientError, Concat(fetched.pods.status().message()),
                       std::move(result));
  }
  absl::StatusOr<std::optional<ContainerMatch>> match =
      FindContainer(**fetched.pods, result.container_id, result.pod_uid);
  if (!match.ok()) {
    return WithOutcome(Outcome::kSoftError, Concat(match.status().message()), std::move(result));
  }
  if (!match->has_value()) {
    std::string unknown = Concat("the kubelet at ", options_.kubelet_url,
                                 " lists no status for container ", result.container_id);
    return NotFoundResult(request, options_.not_found_grace, std::move(unknown), std::move(result));
  }

  result.outcome = Outcome::kOk;
  result.selectors = PodSelectors(**match, node_name_);
  return result;
}

}  // namespace reattest::attestors
