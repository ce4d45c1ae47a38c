// Test entry point shared by every test executable (Catch2 v2 or v3).
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_session.hpp>
#else
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#endif

#include "core/process.h"

int main(int argc, char** argv) {
  // Tests run two executables at a time on two cores: one thread each keeps them from fighting.
  // Set here, once, like the CLI does: RunContext leaves process-wide settings alone.
  repro::ProcessOptions process;
  process.threads = 1;
  process.log_level = "warn";
  repro::configure_process(process);
  return Catch::Session().run(argc, argv);
}
