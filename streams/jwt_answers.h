// The answers of the Workload API's unary JWT calls (SPEC section 4), from a
// workload's identity. Request checks run on the gRPC thread before the call
// is held; answers run on the thread pool (they sign and verify).
#pragma once

#include <grpcpp/support/status.h>

#include "supervisor/stream_sink.h"
#include "workload.pb.h"

namespace reattest::streams {

// InvalidArgument for a request that can never be answered.
grpc::Status CheckJwtSvidRequest(const JWTSVIDRequest& request);
grpc::Status CheckValidateRequest(const ValidateJWTSVIDRequest& request);

// Whether `identity` holds what `request` asks for: any identity, or the
// one its `spiffe_id` names.
bool HasRequestedIdentity(const supervisor::WorkloadIdentity& identity,
                          const JWTSVIDRequest& request);

// A JWT-SVID for each matched identity (or the one named), in entries order.
grpc::Status AnswerJwtSvid(const supervisor::WorkloadIdentity& identity,
                           const JWTSVIDRequest& request, JWTSVIDResponse& response);

// Validates against the caller's own trust domain and the bundles its
// matched entries federate with; a bad token is InvalidArgument.
grpc::Status AnswerValidate(const supervisor::WorkloadIdentity& identity,
                            const ValidateJWTSVIDRequest& request,
                            ValidateJWTSVIDResponse& response);

}  // namespace reattest::streams
