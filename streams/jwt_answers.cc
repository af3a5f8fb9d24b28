#include "streams/jwt_answers.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>

#include "common/spiffe_id.h"
#include "identity/jwt/jwt_svid.h"
#include "identity/local/jwt_issuer.h"
#include "identity/trust.h"
#include "streams/grpc_status.h"

namespace reattest::streams {
namespace {

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// The matched SVIDs that `request` asks for, in entries order.
std::vector<const identity::X509Svid*> RequestedSvids(const supervisor::WorkloadIdentity& identity,
                                                      const JWTSVIDRequest& request) {
  std::vector<const identity::X509Svid*> svids;
  if (!identity.snapshot) {
    return svids;
  }
  for (size_t index : identity.matched) {
    const identity::X509Svid& svid = *identity.snapshot->svids[index];
    if (request.spiffe_id().empty() || svid.spiffe_id.str() == request.spiffe_id()) {
      svids.push_back(&svid);
    }
  }
  return svids;
}

}  // namespace

grpc::Status CheckJwtSvidRequest(const JWTSVIDRequest& request) {
  if (request.audience().empty()) {
    return Invalid("audience must be specified");
  }
  if (!request.spiffe_id().empty()) {
    absl::StatusOr<SpiffeId> id = SpiffeId::Parse(request.spiffe_id());
    if (!id.ok()) {
      return Invalid("spiffe_id is not a SPIFFE ID: " + std::string(id.status().message()));
    }
  }
  return grpc::Status::OK;
}

grpc::Status CheckValidateRequest(const ValidateJWTSVIDRequest& request) {
  if (request.audience().empty()) {
    return Invalid("audience must be specified");
  }
  if (request.svid().empty()) {
    return Invalid("svid must be specified");
  }
  return grpc::Status::OK;
}

bool HasRequestedIdentity(const supervisor::WorkloadIdentity& identity,
                          const JWTSVIDRequest& request) {
  return !RequestedSvids(identity, request).empty();
}

grpc::Status AnswerJwtSvid(const supervisor::WorkloadIdentity& identity,
                           const JWTSVIDRequest& request, JWTSVIDResponse& response) {
  std::vector<const identity::X509Svid*> svids = RequestedSvids(identity, request);
  if (svids.empty()) {
    // The supervisor delivers only once the identity is there; it went away since.
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no identity issued");
  }
  if (!identity.snapshot->jwt) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no JWT signing key loaded");
  }
  std::vector<std::string> audience(request.audience().begin(), request.audience().end());
  auto now = std::chrono::system_clock::now();
  for (const identity::X509Svid* svid : svids) {
    absl::StatusOr<std::string> token =
        identity.snapshot->jwt->Issue(svid->spiffe_id, audience, now);
    if (!token.ok()) {
      return ToGrpcStatus(token.status());
    }
    JWTSVID* out = response.add_svids();
    out->set_spiffe_id(svid->spiffe_id.str());
    out->set_svid(*std::move(token));
    out->set_hint(svid->hint);
  }
  return grpc::Status::OK;
}

grpc::Status AnswerValidate(const supervisor::WorkloadIdentity& identity,
                            const ValidateJWTSVIDRequest& request,
                            ValidateJWTSVIDResponse& response) {
  identity::JwtTrust trust;
  if (identity.snapshot) {
    trust = identity::JwtTrustFor(*identity.snapshot, identity.matched);
  }
  absl::StatusOr<identity::ValidatedJwtSvid> validated = identity::ValidateJwtSvid(
      request.svid(), request.audience(), trust, std::chrono::system_clock::now());
  if (!validated.ok()) {
    return ToGrpcStatus(validated.status());
  }
  response.set_spiffe_id(validated->spiffe_id.str());
  auto parsed = google::protobuf::util::JsonStringToMessage(validated->claims_json,
                                                            response.mutable_claims());
  if (!parsed.ok()) {
    return Invalid("the token's claims are not a JSON object: " + parsed.ToString());
  }
  return grpc::Status::OK;
}

}  // namespace reattest::streams
