// The xDS bookkeeping of SDS streams (SPEC section 4), apart from gRPC and
// from what a secret is: which client requests get an answer, content
// versions and nonces, for the state-of-the-world protocol (StreamSecrets)
// and the incremental one (DeltaSecrets). Resources are opaque named byte
// strings here; the stream renders them and wraps them for the wire.
//
// Both subscriptions are pulled: the stream offers what the subscription's
// names resolve to whenever it could write (a request arrived, the identity
// changed, the previous write finished), and Offer() says what, if
// anything, to send. So a burst of changes while a write is in flight
// becomes one response, and a nonce is handed out only for a response that
// is really written.
//
// Not thread-safe: each stream owns its subscription and uses it on the loop
// thread.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace reattest::streams {

// One resource as the wire carries it: its name and serialized bytes.
struct NamedResource {
  std::string name;
  std::string bytes;

  bool operator==(const NamedResource& other) const = default;
};
using ResourceList = std::vector<NamedResource>;

// The version of a list of resources: equal content gives an equal version,
// on every stream and across agent restarts; any change of a name, a byte
// or the order gives another.
std::string ContentVersion(const ResourceList& resources);
// The version of one resource's bytes.
std::string ResourceVersion(const std::string& bytes);
// A nonce this process has never handed out before. Thread-safe.
std::string NextNonce();

// The name that asks for every resource, in both protocols.
inline constexpr char kWildcardName[] = "*";
// State-of-the-world names that ask for every resource: none, or `*`.
bool IsWildcard(const std::vector<std::string>& names);

// --- State of the world ----------------------------------------------------

struct SotwRequest {
  std::vector<std::string> resource_names;
  std::string version_info;
  std::string response_nonce;
  // error_detail is set: the client rejected the response it names.
  bool nack = false;
};

struct SotwResponse {
  std::string version;
  std::string nonce;
  ResourceList resources;
};

class SotwSubscription {
 public:
  enum class RequestKind {
    kSubscribe,     // empty response_nonce: a new subscription, always answered
    kNamesChanged,  // resource_names changed: answered at once
    kAck,           // the client accepted the last response: no answer
    kNack,          // the client rejected the last response: no answer, no resend
    kStale,         // names a response that is not the latest: ignored
  };

  // Records a request and says what it is. A stale request changes nothing.
  RequestKind OnRequest(const SotwRequest& request);

  bool subscribed() const { return subscribed_; }
  // Empty resource_names, or `*` among them: every resource the workload has.
  bool wildcard() const { return IsWildcard(names_); }
  // The names last requested, in request order.
  const std::vector<std::string>& names() const { return names_; }
  // The version of the last response sent ("" before the first).
  const std::string& sent_version() const { return sent_version_; }

  // What names() resolve to now. Returns the response to send: when a
  // request is waiting for its answer, or when the content has changed from
  // the last response and is not the version the client last rejected.
  // Nothing before the first request.
  std::optional<SotwResponse> Offer(ResourceList resources);

 private:
  bool subscribed_ = false;
  bool answer_due_ = false;
  std::vector<std::string> names_;
  std::string sent_version_;
  std::string sent_nonce_;
  std::string nacked_version_;
};

// --- Incremental -----------------------------------------------------------

// Braced defaults let a request name only the fields it sets.
struct DeltaRequest {
  std::vector<std::string> subscribe{};
  std::vector<std::string> unsubscribe{};
  // Only read on the first request of a stream: what a reconnecting client
  // already has, so it is not sent again.
  std::map<std::string, std::string> initial_versions{};
  std::string response_nonce{};
  bool nack = false;
};

struct DeltaResource {
  std::string name;
  std::string version;
  std::string bytes;
};

struct DeltaResponse {
  // For debugging only (xDS): the version of everything the client now has.
  std::string system_version;
  std::string nonce;
  std::vector<DeltaResource> resources;
  std::vector<std::string> removed;
};

class DeltaSubscription {
 public:
  enum class AckKind {
    kNone,   // no response_nonce: a subscription change only
    kAck,    // the client accepted the latest response
    kNack,   // the client rejected the latest response: not sent again
    kStale,  // names an older response; its subscription changes still apply
  };

  // Applies the request's subscription changes and says how it relates to
  // the responses sent. Wildcard rules of xDS: a first request that
  // subscribes to nothing is a (legacy) wildcard subscription, which a later
  // subscription to a specific name ends unless `*` is subscribed too;
  // subscribing to `*` is wildcard until `*` is unsubscribed.
  AckKind OnRequest(const DeltaRequest& request);

  bool started() const { return started_; }
  bool wildcard() const { return legacy_wildcard_ || explicit_wildcard_; }
  // Names subscribed to explicitly (`*` excluded).
  const std::set<std::string>& names() const { return names_; }

  // Every resource the subscription covers that exists now: names() that
  // exist, and with wildcard() every wildcard resource. Returns the changes
  // to send (new or changed resources, those explicitly subscribed since the
  // last offer, and removals of what the client has that no longer exists),
  // or nothing when there are none. Nothing before the first request.
  std::optional<DeltaResponse> Offer(const ResourceList& resources);

 private:
  bool started_ = false;
  bool legacy_wildcard_ = false;
  bool explicit_wildcard_ = false;
  std::set<std::string> names_;
  // Name to version of every resource the client has, as far as we know.
  std::map<std::string, std::string> client_versions_;
  // Subscribed since the last offer: sent even if the client has them.
  std::set<std::string> must_send_;
  std::string sent_nonce_;
};

}  // namespace reattest::streams
