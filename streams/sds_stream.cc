#include "streams/sds_stream.h"

#include "common/log.h"
#include "common/strings.h"
#include "streams/sds_secrets.h"

namespace reattest::streams {
namespace {

const log::Logger kLog("sds");

constexpr char kDisableValidationKey[] = "disable_spiffe_cert_validation";

google::protobuf::Any Wrap(const std::string& bytes) {
  google::protobuf::Any any;
  any.set_type_url(kSecretTypeUrl);
  any.set_value(bytes);
  return any;
}

// A NACK is the Envoy's business to fix or report; we log it and do not
// send the same content again.
void LogNack(const supervisor::ConnectionInfo& caller, const std::string& node_id,
             const std::string& rejected, const google::rpc::Status& error) {
  kLog.Warn(
      "an SDS client rejected a response; not sending that content again",
      {{"pid", caller.pid}, {"node", node_id}, {"rejected", rejected}, {"error", error.message()}});
}

bool SpiffeValidation(const SdsContext& context, bool node_disables_validation) {
  return !context.config.disable_spiffe_cert_validation && !node_disables_validation;
}

// The subscription's names that exist, then, for a wildcard, every
// resource by ID (each name once). Streams asking alike share one
// resolution through the context's cache.
ResourceList ResolveSubscribed(const SdsContext& context,
                               const supervisor::WorkloadIdentity& identity,
                               bool node_disables_validation, std::vector<std::string> names,
                               bool wildcard) {
  SdsSecretCache::Key key{identity, SpiffeValidation(context, node_disables_validation),
                          std::move(names), wildcard};
  return context.secrets.Resolve(key, [&key, &context] {
    SecretCatalog catalog(key.identity, context.config, key.spiffe_validation);
    std::vector<std::string> all = key.names;
    if (key.wildcard) {
      std::vector<std::string> every = catalog.WildcardNames();
      all.insert(all.end(), every.begin(), every.end());
    }
    return catalog.Resolve(all);
  });
}

}  // namespace

absl::Status CheckTypeUrl(const std::string& type_url) {
  if (type_url.empty() || type_url == kSecretTypeUrl) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      Concat("unsupported type_url ", type_url, "; want ", kSecretTypeUrl));
}

bool NodeDisablesSpiffeValidation(const envoy::config::core::v3::Node& node) {
  const auto& fields = node.metadata().fields();
  auto it = fields.find(kDisableValidationKey);
  if (it == fields.end()) {
    return false;
  }
  const google::protobuf::Value& value = it->second;
  // Bootstrap YAML may quote it.
  return (value.kind_case() == google::protobuf::Value::kBoolValue && value.bool_value()) ||
         (value.kind_case() == google::protobuf::Value::kStringValue &&
          value.string_value() == "true");
}

// --- StreamSecrets -----------------------------------------------------------

void SotwSdsStream::Take(const discovery::DiscoveryRequest& request) {
  SotwRequest taken{{request.resource_names().begin(), request.resource_names().end()},
                    request.version_info(),
                    request.response_nonce(),
                    request.has_error_detail()};
  SotwSubscription::RequestKind kind = subscription_.OnRequest(taken);
  if (kind == SotwSubscription::RequestKind::kNack) {
    LogNack(caller(), node_id(), Concat("version ", subscription_.sent_version()),
            request.error_detail());
  } else if (kind == SotwSubscription::RequestKind::kStale) {
    kLog.Debug("ignoring a request for a stale nonce",
               {{"pid", caller().pid}, {"nonce", request.response_nonce()}});
  }
}

// TODO: every stream wraps its own copy of each secret in an `Any`; a fan-out
// to 10,000 streams of one subscription takes 1.4x a bare server's time
// (bench/RESULTS.md). Sharing the wrapped resources would close most of it.
std::unique_ptr<discovery::DiscoveryResponse> SotwSdsStream::Next(
    const supervisor::WorkloadIdentity& identity) {
  if (!subscription_.subscribed()) {
    return nullptr;
  }
  std::optional<SotwResponse> offer =
      subscription_.Offer(ResolveSubscribed(context(), identity, node_disables_validation(),
                                            subscription_.names(), subscription_.wildcard()));
  if (!offer) {
    return nullptr;
  }
  auto response = std::make_unique<discovery::DiscoveryResponse>();
  response->set_version_info(offer->version);
  response->set_type_url(kSecretTypeUrl);
  response->set_nonce(offer->nonce);
  for (const NamedResource& resource : offer->resources) {
    *response->add_resources() = Wrap(resource.bytes);
  }
  return response;
}

// --- DeltaSecrets ------------------------------------------------------------

void DeltaSdsStream::Take(const discovery::DeltaDiscoveryRequest& request) {
  DeltaRequest taken{
      {request.resource_names_subscribe().begin(), request.resource_names_subscribe().end()},
      {request.resource_names_unsubscribe().begin(), request.resource_names_unsubscribe().end()},
      {request.initial_resource_versions().begin(), request.initial_resource_versions().end()},
      request.response_nonce(),
      request.has_error_detail()};
  if (subscription_.OnRequest(taken) == DeltaSubscription::AckKind::kNack) {
    LogNack(caller(), node_id(), Concat("nonce ", request.response_nonce()),
            request.error_detail());
  }
}

std::unique_ptr<discovery::DeltaDiscoveryResponse> DeltaSdsStream::Next(
    const supervisor::WorkloadIdentity& identity) {
  if (!subscription_.started()) {
    return nullptr;
  }
  std::optional<DeltaResponse> offer = subscription_.Offer(ResolveSubscribed(
      context(), identity, node_disables_validation(),
      {subscription_.names().begin(), subscription_.names().end()}, subscription_.wildcard()));
  if (!offer) {
    return nullptr;
  }
  auto response = std::make_unique<discovery::DeltaDiscoveryResponse>();
  response->set_system_version_info(offer->system_version);
  response->set_type_url(kSecretTypeUrl);
  response->set_nonce(offer->nonce);
  for (const DeltaResource& resource : offer->resources) {
    discovery::Resource* out = response->add_resources();
    out->set_name(resource.name);
    out->set_version(resource.version);
    *out->mutable_resource() = Wrap(resource.bytes);
  }
  for (const std::string& name : offer->removed) {
    response->add_removed_resources(name);
  }
  return response;
}

// --- FetchSecrets ------------------------------------------------------------

void SdsFetch::Open() {
  if (absl::Status type = CheckTypeUrl(request_.type_url()); !type.ok()) {
    finished_ = true;
    Finish(ToGrpcStatus(type));
    return;
  }
  if (!context_.loop.Post([this] { context_.supervisor.AttachStream(this, caller_); })) {
    finished_ = true;
    Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "agent shutting down"));
  }
}

void SdsFetch::Deliver(const supervisor::WorkloadIdentity& identity) {
  if (finished_) {
    return;
  }
  std::vector<std::string> names(request_.resource_names().begin(),
                                 request_.resource_names().end());
  bool wildcard = IsWildcard(names);
  ResourceList resources =
      ResolveSubscribed(context_, identity, NodeDisablesSpiffeValidation(request_.node()),
                        std::move(names), wildcard);
  response_.set_version_info(ContentVersion(resources));
  response_.set_type_url(kSecretTypeUrl);
  response_.set_nonce(NextNonce());
  for (const NamedResource& resource : resources) {
    *response_.add_resources() = Wrap(resource.bytes);
  }
  // Not from inside the supervisor's own call: detach once it has returned.
  context_.loop.Post([this] { context_.supervisor.DetachStream(this); });
  End(absl::OkStatus());
}

void SdsFetch::End(const absl::Status& status) {
  if (!finished_) {
    finished_ = true;
    Finish(ToGrpcStatus(status));
  }
}

void SdsFetch::OnCancel() {
  context_.loop.Post([this] {
    if (!finished_) {
      context_.supervisor.DetachStream(this);
      End(absl::CancelledError("client cancelled"));
    }
  });
}

void SdsFetch::OnDone() {
  if (!context_.loop.Post([this] { delete this; })) {
    delete this;
  }
}

}  // namespace reattest::streams
