// Settings of the k8s attestor (`attestors.k8s` in the config file).
#pragma once

#include <string>

#include "common/duration.h"

namespace reattest::attestors {

struct K8sOptions {
  // https:// = secure port with a bearer token; http:// = read-only port.
  std::string kubelet_url = "https://127.0.0.1:10250";
  std::string token_path = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_path = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  bool skip_kubelet_verification = false;
  std::string node_name_env = "MY_NODE_NAME";
  Duration timeout = std::chrono::seconds(2);
  Duration kubelet_min_interval = std::chrono::milliseconds(500);
  Duration not_found_grace = std::chrono::minutes(2);
};

}  // namespace reattest::attestors
