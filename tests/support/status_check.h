// Catch2 checks of absl::Status values that print the status on failure, so
// a failed step of a test says what went wrong, not just "false".
#pragma once

#include <catch2/catch.hpp>

#include "absl/status/status.h"

// REQUIRE_OK(expression): the expression's absl::Status is OK.
#define REQUIRE_OK(expression)                          \
  do {                                                  \
    const absl::Status reattest_status_ = (expression); \
    INFO(reattest_status_.ToString());                  \
    REQUIRE(reattest_status_.ok());                     \
  } while (false)
