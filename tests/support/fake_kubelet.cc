#include "tests/support/fake_kubelet.h"

#include <chrono>

#include "absl/status/status.h"
#include "identity/local/x509_util.h"

namespace reattest::testing {
namespace {

using identity::CertificateRequest;

// A CA and a server certificate for `localhost` signed by it, as PEM.
struct Credentials {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

absl::StatusOr<Credentials> MakeCredentials() {
  auto now = std::chrono::system_clock::now();
  absl::StatusOr<identity::EvpPkeyPtr> ca_key = identity::GenerateP256Key();
  absl::StatusOr<identity::EvpPkeyPtr> key = identity::GenerateP256Key();
  if (!ca_key.ok() || !key.ok()) {
    return absl::InternalError("key generation failed");
  }
  CertificateRequest ca_request{"kubelet test CA",
                                now - std::chrono::minutes(1),
                                now + std::chrono::hours(1),
                                "spiffe://kubelet.test",
                                {},
                                true};
  absl::StatusOr<identity::X509Ptr> ca =
      identity::IssueCertificate(ca_request, **ca_key, nullptr, **ca_key);
  if (!ca.ok()) {
    return ca.status();
  }
  CertificateRequest leaf_request{"localhost",          ca_request.not_before,
                                  ca_request.not_after, "spiffe://kubelet.test/kubelet",
                                  {"localhost"},        false};
  absl::StatusOr<identity::X509Ptr> cert =
      identity::IssueCertificate(leaf_request, **key, ca->get(), **ca_key);
  if (!cert.ok()) {
    return cert.status();
  }
  absl::StatusOr<std::string> ca_pem = identity::CertificatePem(**ca);
  absl::StatusOr<std::string> cert_pem = identity::CertificatePem(**cert);
  absl::StatusOr<std::string> key_pem = identity::PrivateKeyPem(**key);
  if (!ca_pem.ok() || !cert_pem.ok() || !key_pem.ok()) {
    return absl::InternalError("PEM encoding failed");
  }
  return Credentials{*ca_pem, *cert_pem, *key_pem};
}

}  // namespace

absl::StatusOr<std::unique_ptr<FakeKubelet>> FakeKubelet::Start(bool tls) {
  std::unique_ptr<FakeKubelet> kubelet(new FakeKubelet());
  kubelet->tls_ = tls;
  if (absl::Status written = kubelet->WriteCredentials(); !written.ok()) {
    return written;
  }
  if (tls) {
    kubelet->server_ = std::make_unique<httplib::SSLServer>((kubelet->dir_ / "server.crt").c_str(),
                                                            (kubelet->dir_ / "server.key").c_str());
  } else {
    kubelet->server_ = std::make_unique<httplib::Server>();
  }
  if (!kubelet->server_->is_valid()) {
    return absl::InternalError("SSLServer rejected its certificate or key");
  }
  FakeKubelet* self = kubelet.get();
  kubelet->server_->Get("/pods",
                        [self](const httplib::Request& request, httplib::Response& response) {
                          self->Handle(request, response);
                        });
  kubelet->port_ = kubelet->server_->bind_to_any_port("127.0.0.1");
  if (kubelet->port_ <= 0) {
    return absl::InternalError("cannot bind 127.0.0.1");
  }
  kubelet->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  // httplib's stop() does nothing before the accept loop runs.
  while (!kubelet->server_->is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return kubelet;
}

FakeKubelet::~FakeKubelet() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (server_) {
    server_->stop();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

absl::Status FakeKubelet::WriteCredentials() {
  absl::StatusOr<Credentials> credentials = MakeCredentials();
  if (!credentials.ok()) {
    return credentials.status();
  }
  dir_.Write("ca.crt", credentials->ca_pem);
  dir_.Write("server.crt", credentials->cert_pem);
  dir_.Write("server.key", credentials->key_pem);
  // A trailing newline, as a mounted service-account token file may have.
  dir_.Write("token", token_ + "\n");
  return absl::OkStatus();
}

std::string FakeKubelet::url() const {
  return (tls_ ? "https://localhost:" : "http://localhost:") + std::to_string(port_);
}

void FakeKubelet::ListPods(std::vector<FakePod> pods) {
  std::lock_guard<std::mutex> lock(mutex_);
  mode_ = Mode::kList;
  body_ = PodListJson(pods);
  changed_.notify_all();
}

void FakeKubelet::Answer503() {
  std::lock_guard<std::mutex> lock(mutex_);
  mode_ = Mode::k503;
  changed_.notify_all();
}

void FakeKubelet::Hang() {
  std::lock_guard<std::mutex> lock(mutex_);
  mode_ = Mode::kHang;
}

int FakeKubelet::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

int FakeKubelet::unauthorized() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return unauthorized_;
}

std::string FakeKubelet::last_authorization() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_authorization_;
}

void FakeKubelet::Handle(const httplib::Request& request, httplib::Response& response) {
  std::unique_lock<std::mutex> lock(mutex_);
  ++requests_;
  last_authorization_ = request.get_header_value("Authorization");
  if (tls_ && last_authorization_ != "Bearer " + token_) {
    ++unauthorized_;
    response.status = 401;
    response.set_content("Unauthorized", "text/plain");
    return;
  }
  changed_.wait(lock, [this] { return mode_ != Mode::kHang || stopping_; });
  if (mode_ == Mode::k503) {
    response.status = 503;
    response.set_content("kubelet is restarting", "text/plain");
    return;
  }
  response.set_content(body_, "application/json");
}

}  // namespace reattest::testing
