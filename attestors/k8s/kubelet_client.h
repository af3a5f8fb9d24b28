// A minimal kubelet client: `GET /pods` on the secure port with the service
// account's bearer token, or on the read-only http:// port without one.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "attestors/k8s/k8s_options.h"
#include "attestors/k8s/pod_list.h"

namespace reattest::attestors {

// Immutable after construction: one client may serve many threads, though
// the k8s attestor calls it from its one fetch thread. Each call opens its
// own connection.
class KubeletClient {
 public:
  explicit KubeletClient(const K8sOptions& options) : options_(options) {}

  // `GET <kubelet_url>/pods`. Blocks for at most about `timeout`. The token
  // file is read on each call, so a rotated token is used at the next fetch
  // (fetches are rate-limited, so this costs at most one small read per
  // `kubelet_min_interval`).
  //
  // Errors (any is `transient_error` for a recognised pod): the token file
  // unreadable, connect or TLS failure, timeout, an HTTP status other than
  // 200 (401/403 for a wrong token, 5xx), malformed JSON. Messages read
  // "GET <url>/pods: <what went wrong>" and never hold the token.
  absl::StatusOr<std::shared_ptr<const PodList>> FetchPods() const;

 private:
  const K8sOptions options_;
};

}  // namespace reattest::attestors
