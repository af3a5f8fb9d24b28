// Renders a workload's identity as a Workload API X509SVIDResponse (SPEC
// section 4): svids in entries-file order, DER chain leaf first, PKCS#8 key,
// the own trust domain's bundle, and the bundles of the trust domains its
// matched entries federate with.
#pragma once

#include "supervisor/stream_sink.h"
#include "workload.pb.h"

namespace reattest::streams {

void RenderX509Svids(const supervisor::WorkloadIdentity& identity, X509SVIDResponse& response);

}  // namespace reattest::streams
