// `reattest api fetch jwt`, `api fetch bundles` and `api validate jwt`:
// debugging clients of the Workload API's JWT and bundle calls.
#pragma once

#include <string>
#include <vector>

#include "cli/api_fetch.h"

namespace reattest::cli {

// Prints a JWT-SVID per identity (or the one `spiffe_id` names) for
// `audience`, then the JWT bundles. Returns the exit status.
int FetchJwt(const FetchOptions& options, const std::vector<std::string>& audience,
             const std::string& spiffe_id);

// Prints the first message of the X.509 and the JWT bundle streams.
int FetchBundles(const FetchOptions& options);

// Validates `token` for `audience`; prints the SPIFFE ID and claims, or the
// reason it was rejected (exit status 1).
int ValidateJwt(const FetchOptions& options, const std::string& audience, const std::string& token);

}  // namespace reattest::cli
