// Keeps the supervisor's identity snapshot current (SPEC section 5): the
// local CA, the entries file watched through its directory, and SVID
// rotation. File reads and minting run on the thread pool; snapshots are
// handed over on the loop thread.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/log.h"
#include "identity/local/local_ca.h"
#include "identity/snapshot.h"
#include "metrics/metrics.h"
#include "supervisor/config.h"
#include "supervisor/event_loop.h"

namespace reattest::supervisor {

class IdentityFeed {
 public:
  using SnapshotHandler = std::function<void(std::shared_ptr<const identity::IdentitySnapshot>)>;

  // Blocking, before the loop serves: loads or creates the CA and reads the
  // entries. Errors are start-up errors (a broken entries file at start has
  // no last good version to fall back on).
  static absl::StatusOr<std::unique_ptr<IdentityFeed>> Create(EventLoop& loop, const Config& config,
                                                              metrics::Metrics& metrics,
                                                              SnapshotHandler on_snapshot);
  ~IdentityFeed();

  // Loop thread. Hands over the first snapshot and starts watching the
  // entries file and the rotation clock.
  absl::Status Start();
  // Loop thread. Re-reads the entries file now (SIGHUP).
  void Reload();
  // Loop thread. Stops watching; no handler call afterwards.
  void Stop();

  const std::shared_ptr<const identity::IdentitySnapshot>& current() const { return current_; }

 private:
  IdentityFeed(EventLoop& loop, const Config& config, metrics::Metrics& metrics,
               std::shared_ptr<const identity::LocalCa> ca, SnapshotHandler on_snapshot);

  static void OnDirectoryEvent(uv_fs_event_t* handle, const char* filename, int events, int status);
  void ScheduleReload();
  void Rebuild(bool reread_entries);
  void Publish(std::shared_ptr<const identity::IdentitySnapshot> snapshot);
  void CountRotations(const identity::IdentitySnapshot& next) const;
  void RecordGauges();

  EventLoop& loop_;
  metrics::Metrics& metrics_;
  std::string entries_file_;
  std::string trust_domain_;
  Duration x509_ttl_;
  std::shared_ptr<const identity::LocalCa> ca_;
  SnapshotHandler on_snapshot_;
  std::shared_ptr<const identity::IdentitySnapshot> current_;
  std::string entries_text_;  // last applied contents, to skip no-op events
  uv_fs_event_t* watch_ = nullptr;
  Timer quiet_period_;
  Timer rotation_;
  bool rebuilding_ = false;
  bool rebuild_again_ = false;
  bool stopped_ = false;
  log::Logger log_{"identity"};
  // Expires with the feed, so a rebuild finishing later finds it gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace reattest::supervisor
