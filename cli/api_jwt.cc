#include "cli/api_jwt.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>

#include "cli/pem.h"
#include "cli/workload_call.h"

namespace reattest::cli {
namespace {

// The first message of a bundle stream, or nullopt after printing why not.
template <typename Response, typename Request>
std::optional<Response> FirstMessage(const FetchOptions& options,
                                     std::unique_ptr<grpc::ClientReader<Response>> (
                                         SpiffeWorkloadAPI::Stub::*open)(grpc::ClientContext*,
                                                                         const Request&)) {
  std::unique_ptr<SpiffeWorkloadAPI::Stub> stub = WorkloadStub(options.socket_path);
  grpc::ClientContext context;
  PrepareContext(context, options.timeout);
  std::unique_ptr<grpc::ClientReader<Response>> reader = ((*stub).*open)(&context, Request());
  Response response;
  if (!reader->Read(&response)) {
    std::fprintf(stderr, "fetch bundles from %s failed: %s\n", options.socket_path.c_str(),
                 DescribeStatus(reader->Finish()).c_str());
    return std::nullopt;
  }
  context.TryCancel();
  return response;
}

void PrintJwtBundles(const JWTBundlesResponse& response) {
  for (const auto& [id, jwks] : response.bundles()) {
    std::printf("bundle(%s):\n\t%s\n", id.c_str(), jwks.c_str());
  }
}

bool PrintX509Bundles(const X509BundlesResponse& response) {
  for (const auto& [id, der] : response.bundles()) {
    absl::StatusOr<std::vector<CertificateSummary>> certs = ParseDerCertificates(der);
    if (!certs.ok()) {
      std::fprintf(stderr, "agent sent a malformed bundle for %s\n", id.c_str());
      return false;
    }
    std::printf("bundle(%s):\n", id.c_str());
    for (size_t i = 0; i < certs->size(); ++i) {
      std::printf("CA #%zu Valid After:\t%s\nCA #%zu Valid Until:\t%s\n", i + 1,
                  (*certs)[i].not_before.c_str(), i + 1, (*certs)[i].not_after.c_str());
    }
    std::printf("%s", JoinPem(*certs).c_str());
  }
  return true;
}

}  // namespace

int FetchJwt(const FetchOptions& options, const std::vector<std::string>& audience,
             const std::string& spiffe_id) {
  std::unique_ptr<SpiffeWorkloadAPI::Stub> stub = WorkloadStub(options.socket_path);
  grpc::ClientContext context;
  PrepareContext(context, options.timeout);
  JWTSVIDRequest request;
  for (const std::string& name : audience) {
    request.add_audience(name);
  }
  request.set_spiffe_id(spiffe_id);
  JWTSVIDResponse response;
  grpc::Status status = stub->FetchJWTSVID(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "fetch jwt from %s failed: %s\n", options.socket_path.c_str(),
                 DescribeStatus(status).c_str());
    return 1;
  }
  for (const JWTSVID& svid : response.svids()) {
    std::printf("token(%s):\n\t%s\n", svid.spiffe_id().c_str(), svid.svid().c_str());
  }
  std::optional<JWTBundlesResponse> bundles =
      FirstMessage(options, &SpiffeWorkloadAPI::Stub::FetchJWTBundles);
  if (!bundles) {
    return 1;
  }
  PrintJwtBundles(*bundles);
  return 0;
}

int FetchBundles(const FetchOptions& options) {
  std::optional<X509BundlesResponse> x509 =
      FirstMessage(options, &SpiffeWorkloadAPI::Stub::FetchX509Bundles);
  if (!x509 || !PrintX509Bundles(*x509)) {
    return 1;
  }
  std::optional<JWTBundlesResponse> jwt =
      FirstMessage(options, &SpiffeWorkloadAPI::Stub::FetchJWTBundles);
  if (!jwt) {
    return 1;
  }
  PrintJwtBundles(*jwt);
  return 0;
}

int ValidateJwt(const FetchOptions& options, const std::string& audience,
                const std::string& token) {
  std::unique_ptr<SpiffeWorkloadAPI::Stub> stub = WorkloadStub(options.socket_path);
  grpc::ClientContext context;
  PrepareContext(context, options.timeout);
  ValidateJWTSVIDRequest request;
  request.set_audience(audience);
  request.set_svid(token);
  ValidateJWTSVIDResponse response;
  grpc::Status status = stub->ValidateJWTSVID(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "validate jwt failed: %s\n", DescribeStatus(status).c_str());
    return 1;
  }
  std::string claims;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(response.claims(), &claims, print);
  std::printf("SVID is valid.\nSPIFFE ID : %s\nClaims    : %s", response.spiffe_id().c_str(),
              claims.c_str());
  return 0;
}

}  // namespace reattest::cli
