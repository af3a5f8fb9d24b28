// A fresh directory under /tmp for one test, removed with its contents when
// the test ends. Short paths keep Unix socket names under their 108-byte limit.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace reattest::testing {

class TempDir {
 public:
  TempDir() {
    char path[] = "/tmp/reattest-XXXXXX";
    if (mkdtemp(path) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = path;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace reattest::testing
