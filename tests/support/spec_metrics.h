// The metric families of SPEC section 8 and their types: the contract that
// scrapes, dashboards and alert rules are checked against.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace reattest::testing {

inline const std::vector<std::pair<std::string, std::string>> kSpecMetricFamilies = {
    {"reattest_attestations_total", "counter"},
    {"reattest_attestation_duration_seconds", "histogram"},
    {"reattest_reattestations_total", "counter"},
    {"reattest_retry_delay_seconds", "histogram"},
    {"reattest_workloads", "gauge"},
    {"reattest_streams", "gauge"},
    {"reattest_stuck_streams", "gauge"},
    {"reattest_oldest_degraded_seconds", "gauge"},
    {"reattest_recoveries_total", "counter"},
    {"reattest_recovery_duration_seconds", "histogram"},
    {"reattest_pushes_total", "counter"},
    {"reattest_svid_rotations_total", "counter"},
    {"reattest_entries", "gauge"},
    {"reattest_entries_reload_errors_total", "counter"},
    {"reattest_config_reloads_total", "counter"},
    {"reattest_ca_expiry_timestamp_seconds", "gauge"},
    {"reattest_build_info", "gauge"},
};

}  // namespace reattest::testing
