// `reattest api fetch x509`: a debugging client of the Workload API.
#pragma once

#include <string>

#include "common/duration.h"

namespace reattest::cli {

struct FetchOptions {
  std::string socket_path;
  Duration timeout = std::chrono::seconds(5);
  // When set, writes svid.N.pem, svid.N.key, bundle.N.pem and
  // federated_bundle.N.M.pem there, named as SPIRE's CLI names them.
  std::string write_dir;
};

// Prints the caller's X.509-SVIDs; returns the exit status.
int FetchX509(const FetchOptions& options);

}  // namespace reattest::cli
