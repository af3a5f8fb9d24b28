// The entries file (SPEC section 5): parsing, validation and load-time
// warnings. Pure functions; any thread may call them.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "identity/entry.h"

namespace reattest::identity {

// Parses an entries file held in `yaml`. The whole file is rejected on the
// first problem: a YAML syntax error, a missing `entries:` key, an unknown or
// repeated key, a malformed value, or a `spiffe_id` outside `trust_domain`
// (a bare name such as `example.org`). Errors are InvalidArgument and read
// `FILE:LINE: KEY: message`, for example
// `entries.yaml:7: entries[2].spiffe_id: "spiffe://other.org/x" is outside trust domain
// example.org`; entry indexes count from 0.
absl::StatusOr<std::vector<Entry>> ParseEntries(std::string_view yaml, const std::string& file_name,
                                                std::string_view trust_domain);

// Reads `path` and parses it as above; messages name the file as `path`.
// Blocks on file I/O: call it from the thread pool, not the event loop.
absl::StatusOr<std::vector<Entry>> LoadEntriesFile(const std::string& path,
                                                   std::string_view trust_domain);

// Problems that do not reject the file, one message each, for the caller to
// log: selectors of attestors not in `enabled_attestors` (those entries can
// never match), and entries repeating an earlier entry's spiffe_id (where both
// match a workload, the first wins).
std::vector<std::string> EntryWarnings(const std::vector<Entry>& entries,
                                       const std::set<std::string>& enabled_attestors);

}  // namespace reattest::identity
