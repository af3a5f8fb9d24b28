// The k8s attestor (SPEC section 2): selectors from the kubelet's record of
// the pod and container a process runs in.
//
// Whether a process is a pod's is decided from its cgroup paths alone; only
// then is the kubelet asked, through one fetcher shared by every attestation
// (see pod_list_fetcher.h), so a storm of retries costs the kubelet at most
// one `/pods` request per `kubelet_min_interval`.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/attestor.h"
#include "attestors/cgroup.h"
#include "attestors/k8s/k8s_options.h"
#include "attestors/k8s/pod_list_fetcher.h"

namespace reattest::attestors {

// True for a process the k8s attestor looks up: its cgroup paths name a pod
// UID and a container, or a CRI-O container (whose paths may name no pod).
bool IsPodContainer(const CgroupInfo& cgroups);

class K8sAttestor : public Attestor {
 public:
  // Rejects options no request could succeed with (timeout not positive);
  // reads the node name from the `node_name_env` variable.
  static absl::StatusOr<std::unique_ptr<K8sAttestor>> Create(const K8sOptions& options);

  // For tests: `fetch` stands in for the kubelet and `clock` for the time
  // the fetcher's interval and timeout are measured on.
  K8sAttestor(const K8sOptions& options, std::string node_name, PodListFetcher::FetchFunction fetch,
              PodListFetcher::Clock clock = std::chrono::steady_clock::now);

  std::string_view name() const override { return "k8s"; }
  WorkKind work_kind() const override { return WorkKind::kNetwork; }
  Duration timeout() const override { return options_.timeout; }

  // Blocking: a /proc read, then for pods' containers a wait on the shared
  // PodList fetch, bounded by `timeout` (plus, for a process younger than
  // the last PodList and not in it, the wait for the next fetch the
  // `kubelet_min_interval` allows). Thread-safe.
  //
  // `ok`: every `k8s:` selector of SPEC section 2 (see PodSelectors).
  // `not_applicable`: no pod UID in the cgroup paths (unless CRI-O), or no
  //   container ID.
  // `soft_error`: /proc/PID/cgroup unreadable or naming two containers or
  //   pods; the container listed in two pods or in another pod than its
  //   cgroups name; not listed for a process older than `not_found_grace`.
  // `transient_error`: not listed (or no status yet) for a younger process;
  //   no usable PodList (kubelet unreachable, 401/403, 5xx, timeout,
  //   malformed JSON, the token file unreadable).
  // `container_id` and `pod_uid` are set for every outcome on a pod's
  // container.
  AttestResult Attest(const AttestRequest& request) override;

 private:
  PodListFetcher::Fetched FetchFor(const AttestRequest& request, const AttestResult& result);
  AttestResult Lookup(const AttestRequest& request, AttestResult result);

  const K8sOptions options_;
  const std::string node_name_;
  const PodListFetcher::Clock clock_;
  PodListFetcher fetcher_;
};

}  // namespace reattest::attestors
