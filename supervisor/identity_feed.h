// Keeps the supervisor's identity snapshot current (SPEC section 5): the
// local CA, the entries file and the federated bundle files watched through
// their directories, SVID rotation, and the JWT signing keys' rotation.
// File reads, minting and key generation run on the thread pool; snapshots
// are handed over on the loop thread.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/log.h"
#include "identity/local/jwt_issuer.h"
#include "identity/local/local_ca.h"
#include "identity/snapshot.h"
#include "identity/trust_bundle.h"
#include "metrics/metrics.h"
#include "supervisor/config.h"
#include "supervisor/event_loop.h"

namespace reattest::supervisor {

class IdentityFeed {
 public:
  using SnapshotHandler = std::function<void(std::shared_ptr<const identity::IdentitySnapshot>)>;

  // Blocking, before the loop serves: loads or creates the CA and the JWT
  // keys, reads the entries and the federated bundles. Errors are start-up
  // errors (a broken file at start has no last good version to fall back on).
  static absl::StatusOr<std::unique_ptr<IdentityFeed>> Create(EventLoop& loop, const Config& config,
                                                              metrics::Metrics& metrics,
                                                              SnapshotHandler on_snapshot);
  ~IdentityFeed();

  // Loop thread. Hands over the first snapshot and starts watching the
  // entries and bundle files and the rotation clocks.
  absl::Status Start();
  // Loop thread. Re-reads the entries and bundle files now (SIGHUP).
  void Reload();
  // Loop thread. Stops watching; no handler call afterwards.
  void Stop();

  const std::shared_ptr<const identity::IdentitySnapshot>& current() const { return current_; }

 private:
  struct RebuildInput;
  struct Rebuilt;

  IdentityFeed(EventLoop& loop, const Config& config, metrics::Metrics& metrics,
               std::shared_ptr<const identity::LocalCa> ca, SnapshotHandler on_snapshot);

  // Start-up: the JWT keys and federated bundles, then the entries and SVIDs.
  absl::Status LoadTrust();
  absl::Status LoadCore();
  void WarnUnknownFederations() const;
  static void OnDirectoryEvent(uv_fs_event_t* handle, const char* filename, int events, int status);
  absl::Status Watch(const std::string& directory);
  void ScheduleReload();
  void Rebuild(bool reread_entries);
  // Thread pool: reads and parses the entries (when asked) and mints what
  // needs minting.
  static void RebuildCore(const RebuildInput& in, Rebuilt& out);
  void ApplyRebuilt(Rebuilt& result);
  void AdvanceJwtKeys();
  void ArmJwtTimer(Duration delay);
  void Publish();
  void CountRotations(const identity::IdentitySnapshot& next) const;
  void RecordGauges();

  EventLoop& loop_;
  metrics::Metrics& metrics_;
  std::string entries_file_;
  std::string trust_domain_;
  Duration x509_ttl_;
  std::shared_ptr<const identity::LocalCa> ca_;
  identity::JwtKeyPolicy jwt_policy_;
  // Trust domain ID to PEM file.
  std::map<std::string, std::string> bundle_paths_;
  SnapshotHandler on_snapshot_;
  // Entries and SVIDs; `current_` adds the JWT authority and the bundles.
  std::shared_ptr<const identity::IdentitySnapshot> core_;
  std::shared_ptr<const identity::JwtIssuer> jwt_;
  identity::BundleFiles bundles_;
  std::shared_ptr<const identity::IdentitySnapshot> current_;
  std::string entries_text_;  // last applied contents, to skip no-op events
  std::vector<uv_fs_event_t*> watches_;
  Timer quiet_period_;
  Timer rotation_;
  Timer jwt_rotation_;
  bool rebuilding_ = false;
  bool rebuild_again_ = false;
  bool stopped_ = false;
  log::Logger log_{"identity"};
  // Expires with the feed, so a rebuild finishing later finds it gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace reattest::supervisor
