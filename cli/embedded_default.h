// `reattest run` with no config: trust domain example.org, a local CA in the
// default data dir, the unix attestor, and one entry that gives the invoking
// user spiffe://example.org/user/NAME (SPEC section 7).
#pragma once

#include "absl/status/statusor.h"
#include "supervisor/config.h"

namespace reattest::cli {

// Creates the data dir and writes its entries file, which is regenerated at
// every start from the invoking user (edit a real config to change it).
absl::StatusOr<supervisor::Config> PrepareEmbeddedDefault();

}  // namespace reattest::cli
