#include "training/dp/poisson_sampler.h"

#include <ATen/ATen.h>

#include <string>

#include "core/error.h"
#include "training/dp/dp_sgd.h"

namespace repro::dp {

const char* random_source_name(RandomSource source) { return source == RandomSource::kSecure ? "secure" : "seeded"; }

LotPlan plan_lots(int64_t n, int64_t lot_size) {
  if (n < 1) throw ConfigError("DP-SGD: the training set is empty");
  if (lot_size < 1) throw ConfigError("DP-SGD: lot_size " + std::to_string(lot_size) + " must be >= 1");
  LotPlan p;
  p.lots_per_epoch = (n + lot_size - 1) / lot_size;
  p.sample_rate = 1.0 / static_cast<double>(p.lots_per_epoch);
  // Opacus: expected_batch_size = int(len(dataset) * sample_rate); at least 1 so that a tiny set
  // still normalises by a positive number (int(n q) >= 1 whenever lot_size <= n anyway).
  p.expected_lot_size = static_cast<double>(static_cast<int64_t>(static_cast<double>(n) * p.sample_rate));
  if (p.expected_lot_size < 1.0) p.expected_lot_size = 1.0;
  return p;
}

PoissonSampler::PoissonSampler(int64_t n, double q, uint64_t seed, RandomSource source)
    : n_(n), q_(q), generator_(make_noise_generator(seed)) {
  if (source == RandomSource::kSecure)
    throw NotSupported(
        "DP-SGD: secure sampling and noise (a CSPRNG, Opacus's secure_mode) are not implemented; runs use seeded "
        "generators and their records say so");
  if (n < 1) throw ConfigError("Poisson sampling: the population is empty");
  if (!(q >= 0.0 && q <= 1.0)) throw ConfigError("Poisson sampling: rate " + std::to_string(q) + " is not in [0, 1]");
}

at::Tensor PoissonSampler::next() {
  const at::Tensor u = at::rand({n_}, generator_, at::TensorOptions().dtype(at::kDouble));
  return u.lt(q_).nonzero().view({-1});
}

}  // namespace repro::dp
