#pragma once
// Catch2 v2 / v3 compatibility: include this, never Catch2 directly.
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#define REPRO_CATCH_V3 1
#else
#include <catch2/catch.hpp>
#endif

#if defined(REPRO_CATCH_V3)
using Catch::Approx;
#endif
