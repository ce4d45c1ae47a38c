#include "methods/common/admm_schedule.h"
#include <ATen/ATen.h>
#include "methods/common/scaled_hessian.h"

#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using Action = RhoSchedule::Action;

TEST_CASE("rho schedule: ALPS factors, the /5 branch before the first increase, stop rules", "[methods][admm]") {
  RhoSchedule s;  // ALPS defaults
  CHECK(s.rho() == Approx(0.1));
  CHECK_FALSE(s.is_update(0));
  CHECK(s.is_update(2));
  // Support moves a little before rho ever grew: rho /= 5 and reset.
  CHECK(s.update(2, 3, 10000) == Action::Reset);
  CHECK(s.rho() == Approx(0.02));
  // Frozen before it started: rho /= 5, no reset.
  CHECK(s.update(5, 0, 10000) == Action::Continue);
  CHECK(s.rho() == Approx(0.004));
  CHECK_FALSE(s.started());
  // Large change: x1.3 and started.
  CHECK(s.update(8, 2000, 10000) == Action::Continue);
  CHECK(s.rho() == Approx(0.0052));
  CHECK(s.started());
  CHECK(s.update(11, 100, 10000) == Action::Continue);  // ratio 0.01 > 0.005: x1.2
  CHECK(s.rho() == Approx(0.00624));
  CHECK(s.update(14, 10, 10000) == Action::Continue);  // small change once started: x1.1
  CHECK(s.rho() == Approx(0.006864));
  // After switch_iter, a ratio below 0.0003 stops.
  CHECK(s.update(32, 2, 10000) == Action::Stop);
  // Once started, a frozen support stops at once.
  RhoSchedule s2;
  s2.update(2, 5000, 10000);
  CHECK(s2.update(5, 0, 10000) == Action::Stop);
  // rho is capped.
  RhoScheduleOptions o;
  o.rho0 = 9e5;
  RhoSchedule s3(o);
  s3.update(2, 5000, 10000);
  CHECK(s3.rho() == Approx(1e6));
}

TEST_CASE("ScaledHessian: unit diagonal, exact round trip, (Hs + rho I)^-1", "[methods][admm]") {
  auto f = test::make_layer(16, 64, 1);
  at::Tensor H = f.H + at::eye(64) * 0.01 * f.H.diagonal().mean();
  ScaledHessian sh(H);
  CHECK(at::allclose(sh.Hs().diagonal(), at::ones({64}), 1e-5, 1e-5));
  CHECK(at::allclose(sh.from_scaled(sh.to_scaled(f.W)), f.W, 1e-5, 1e-7));
  for (double rho : {0.1, 3.0}) {
    at::Tensor prod = at::matmul(sh.regularized_inverse(rho), sh.Hs() + at::eye(64) * rho);
    CHECK(at::allclose(prod, at::eye(64), 1e-3, 1e-3));
  }
  // The objective is the same in both spaces.
  at::Tensor E = at::randn({16, 64});
  at::Tensor Zs = sh.to_scaled(E);
  double a = at::matmul(at::matmul(E, H), E.t()).trace().item<double>();
  double b = at::matmul(at::matmul(Zs.t(), sh.Hs()), Zs).trace().item<double>();
  CHECK(a == Approx(b).epsilon(1e-4));
}
