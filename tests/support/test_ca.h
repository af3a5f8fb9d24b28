// Throwaway CA certificates for tests that need a trust bundle of another
// trust domain (federated bundle files).
#pragma once

#include <string>

namespace reattest::testing {

struct TestCa {
  std::string pem;
  std::string der;
};

// A fresh self-signed EC P-256 CA certificate for `common_name`, valid for a day.
TestCa MakeTestCa(const std::string& common_name);

}  // namespace reattest::testing
