// Layer objective and wall time of RTN, GPTQ and ADMM-Q on one W and H (methods/admm_q/README.md's
// table). Hidden ([.][slow]): `build/tests/test_methods "[admm_q_speed]"`.
#include <ATen/ATen.h>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <string>
#include <utility>

#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;

TEST_CASE("admm_q speed: RTN vs GPTQ vs ADMM-Q at 1024 x 1024 and 4096 x 1024, 3/4-bit g128",
          "[.][slow][admm_q_speed]") {
  std::cout << "| W [out x in] | bits | method | rel. layer error | time (s) | ADMM iterations |\n"
               "|---|---|---|---|---|---|\n";
  for (auto [out, in] : {std::pair<int64_t, int64_t>{1024, 1024}, std::pair<int64_t, int64_t>{4096, 1024}}) {
    auto f = test::make_layer(out, in, 1);
    for (int bits : {3, 4}) {
      for (const char* method : {"rtn", "gptq", "admm_q"}) {
        RunOptions o;
        o.progress = false;
        o.log_level = "off";
        RunContext ctx(o);
        CompressedLinear c;
        auto t0 = std::chrono::steady_clock::now();
        c = test::compress(method, {{"bits", bits}, {"group_size", 128}}, f, ctx);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::cout << "| " << out << " x " << in << " | " << bits << " | " << method << " | " << std::setprecision(5)
                  << test::rel_error(f, c) << " | " << std::setprecision(3) << s << " | "
                  << ctx.counter("admm_q_iterations") << " |\n";
        if (std::string(method) == "admm_q") {
          std::cout << "|  |  | (phases:";
          for (const auto& [phase, sec] : ctx.timer().seconds()) std::cout << " " << phase << " " << sec;
          std::cout << "; ls moves " << ctx.counter("admm_q_ls_moves") << ") |  |  |  |\n";
        }
      }
    }
  }
}
