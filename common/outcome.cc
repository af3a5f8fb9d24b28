#include "common/outcome.h"

namespace reattest {

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kNotApplicable:
      return "not_applicable";
    case Outcome::kSoftError:
      return "soft_error";
    case Outcome::kTransientError:
      return "transient_error";
  }
  return "unknown";
}

}  // namespace reattest
