#include "tests/support/sds_client.h"

#include "tests/support/workload_client.h"

namespace reattest::testing {
namespace {

using envoy::service::secret::v3::SecretDiscoveryService;

constexpr char kNodeId[] = "test-envoy";

envoy::config::core::v3::Node TestNode(const google::protobuf::Struct& metadata) {
  envoy::config::core::v3::Node node;
  node.set_id(kNodeId);
  node.set_cluster("test");
  node.set_user_agent_name("envoy");
  *node.mutable_metadata() = metadata;
  return node;
}

template <typename Message, typename Stream>
std::thread ReadInto(Stream& stream, MessageQueue<Message>& queue) {
  return std::thread([&stream, &queue] {
    Message message;
    while (stream.Read(&message)) {
      queue.Push(message);
    }
    queue.Close(stream.Finish());
  });
}

template <typename Response>
std::vector<Secret> Unpack(const Response& response, const auto& resource_of) {
  std::vector<Secret> secrets;
  for (const auto& resource : response.resources()) {
    Secret secret;
    const google::protobuf::Any& any = resource_of(resource);
    if (any.type_url() == kSecretType && secret.ParseFromString(any.value())) {
      secrets.push_back(std::move(secret));
    }
  }
  return secrets;
}

}  // namespace

google::protobuf::Struct DisableValidationMetadata() {
  google::protobuf::Struct metadata;
  (*metadata.mutable_fields())["disable_spiffe_cert_validation"].set_bool_value(true);
  return metadata;
}

template <typename Request, typename Response>
SdsCall<Request, Response>::SdsCall(const std::string& socket_path, Open open)
    : stub_(SecretDiscoveryService::NewStub(UnixChannel(socket_path))) {
  stream_ = ((*stub_).*open)(&context_);
  reader_ = ReadInto(*stream_, responses_);
}

template class SdsCall<discovery::DiscoveryRequest, discovery::DiscoveryResponse>;
template class SdsCall<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse>;

// --- StreamSecrets -----------------------------------------------------------

SotwSdsClient::SotwSdsClient(const std::string& socket_path,
                             const google::protobuf::Struct& node_metadata)
    : SdsCall(socket_path, &SecretDiscoveryService::Stub::StreamSecrets),
      node_metadata_(node_metadata) {}

void SotwSdsClient::Subscribe(const std::vector<std::string>& names,
                              const std::string& version_info) {
  names_ = names;
  accepted_version_ = version_info;
  discovery::DiscoveryRequest request = Answer("");
  *request.mutable_node() = TestNode(node_metadata_);
  Send(request);
}

void SotwSdsClient::Ack(const discovery::DiscoveryResponse& response) {
  accepted_version_ = response.version_info();
  last_nonce_ = response.nonce();
  Send(Answer(last_nonce_));
}

void SotwSdsClient::Nack(const discovery::DiscoveryResponse& response) {
  last_nonce_ = response.nonce();
  discovery::DiscoveryRequest request = Answer(last_nonce_);
  request.mutable_error_detail()->set_code(3);
  request.mutable_error_detail()->set_message("test: rejected");
  Send(request);
}

void SotwSdsClient::ChangeNames(const std::vector<std::string>& names) {
  names_ = names;
  Send(Answer(last_nonce_));
}

discovery::DiscoveryRequest SotwSdsClient::Answer(const std::string& nonce) const {
  discovery::DiscoveryRequest request;
  request.set_type_url(kSecretType);
  request.set_version_info(accepted_version_);
  request.set_response_nonce(nonce);
  *request.mutable_resource_names() = {names_.begin(), names_.end()};
  return request;
}

// --- DeltaSecrets ------------------------------------------------------------

DeltaSdsClient::DeltaSdsClient(const std::string& socket_path)
    : SdsCall(socket_path, &SecretDiscoveryService::Stub::DeltaSecrets) {}

void DeltaSdsClient::Subscribe(const std::vector<std::string>& names,
                               const std::map<std::string, std::string>& initial_versions) {
  discovery::DeltaDiscoveryRequest request;
  *request.mutable_node() = TestNode({});
  request.set_type_url(kSecretType);
  *request.mutable_resource_names_subscribe() = {names.begin(), names.end()};
  request.mutable_initial_resource_versions()->insert(initial_versions.begin(),
                                                      initial_versions.end());
  Send(request);
}

void DeltaSdsClient::Ack(const discovery::DeltaDiscoveryResponse& response,
                         const std::vector<std::string>& subscribe,
                         const std::vector<std::string>& unsubscribe) {
  discovery::DeltaDiscoveryRequest request;
  request.set_type_url(kSecretType);
  request.set_response_nonce(response.nonce());
  *request.mutable_resource_names_subscribe() = {subscribe.begin(), subscribe.end()};
  *request.mutable_resource_names_unsubscribe() = {unsubscribe.begin(), unsubscribe.end()};
  Send(request);
}

// --- Unary and decoding ------------------------------------------------------

grpc::Status FetchSecrets(const std::string& socket_path, const std::vector<std::string>& names,
                          discovery::DiscoveryResponse& response) {
  auto stub = SecretDiscoveryService::NewStub(UnixChannel(socket_path));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  discovery::DiscoveryRequest request;
  *request.mutable_node() = TestNode({});
  request.set_type_url(kSecretType);
  *request.mutable_resource_names() = {names.begin(), names.end()};
  return stub->FetchSecrets(&context, request, &response);
}

std::vector<Secret> SecretsOf(const discovery::DiscoveryResponse& response) {
  return Unpack(
      response, [](const google::protobuf::Any& any) -> const auto& { return any; });
}

std::vector<Secret> SecretsOf(const discovery::DeltaDiscoveryResponse& response) {
  return Unpack(
      response,
      [](const discovery::Resource& resource) -> const auto& { return resource.resource(); });
}

std::vector<std::string> NamesOf(const std::vector<Secret>& secrets) {
  std::vector<std::string> names;
  for (const Secret& secret : secrets) {
    names.push_back(secret.name());
  }
  return names;
}

}  // namespace reattest::testing
