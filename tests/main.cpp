// Test entry point shared by every test executable (Catch2 v2 or v3).
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_session.hpp>
#else
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#endif

#include <ATen/Parallel.h>

int main(int argc, char** argv) {
  // Tests run two executables at a time on two cores: one thread each keeps them from fighting.
  at::set_num_threads(1);
  return Catch::Session().run(argc, argv);
}
