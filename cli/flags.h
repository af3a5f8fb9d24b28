// Command-line flags of the form `--name value` or `--name=value`, plus
// positional words.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reattest::cli {

class Flags {
 public:
  // `known` lists the flag names this command takes (without dashes).
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     const std::set<std::string>& known);

  std::optional<std::string> Get(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace reattest::cli
