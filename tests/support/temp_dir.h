// A fresh directory under /tmp, removed with everything in it at scope end.
// Short paths on purpose: Unix socket paths are limited to 107 bytes.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace reattest::testing {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/rt-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

  // Writes `contents` to `name` in place (truncating the same inode).
  std::string Write(const std::string& name, const std::string& contents) const {
    std::string file = *this / name;
    std::ofstream out(file, std::ios::trunc);
    out << contents;
    return file;
  }

 private:
  std::string path_;
};

}  // namespace reattest::testing
