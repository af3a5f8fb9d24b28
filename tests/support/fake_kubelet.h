// A stand-in for a kubelet's secure port (NOTES "Kubelet"): HTTPS with a
// certificate made at start by a CA of its own, `GET /pods` answering a real
// PodList shape to callers with the right bearer token. Tests make it list
// pods late, answer 503, or hang, and read how many requests it got.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/pod_list_json.h"
#include "tests/support/temp_dir.h"

namespace reattest::testing {

class FakeKubelet {
 public:
  // Serves on 127.0.0.1, a port of the kernel's choosing, from its own
  // thread. `tls` false: the read-only port, plain HTTP without a token.
  static absl::StatusOr<std::unique_ptr<FakeKubelet>> Start(bool tls = true);
  // Releases hung requests and stops serving.
  ~FakeKubelet();
  FakeKubelet(const FakeKubelet&) = delete;
  FakeKubelet& operator=(const FakeKubelet&) = delete;

  // `https://localhost:PORT` (the name its certificate carries), or
  // `http://localhost:PORT`.
  std::string url() const;
  // The CA that signed its certificate, and a file holding the right token.
  std::string ca_path() const { return dir_ / "ca.crt"; }
  std::string token_path() const { return dir_ / "token"; }
  const std::string& token() const { return token_; }

  // What the next requests get: the pods, an HTTP 503, or no answer until
  // the mode changes or the fake is destroyed.
  void ListPods(std::vector<FakePod> pods);
  void Answer503();
  void Hang();

  // Requests for /pods so far, and those of them turned away with 401.
  int requests() const;
  int unauthorized() const;
  // The Authorization header of the last request; empty when it had none.
  std::string last_authorization() const;

 private:
  enum class Mode { kList, k503, kHang };

  FakeKubelet() = default;
  absl::Status WriteCredentials();
  void Handle(const httplib::Request& request, httplib::Response& response);

  TempDir dir_;
  std::string token_ = "kubelet-test-token";
  bool tls_ = true;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Mode mode_ = Mode::kList;
  std::string body_ = PodListJson({});
  std::string last_authorization_;
  bool stopping_ = false;
  int unauthorized_ = 0;
  int requests_ = 0;
};

}  // namespace reattest::testing
