#include "training/dp/poisson_sampler.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <ATen/ATen.h>

#include "core/error.h"
#include "training/dp/dp_sgd.h"

namespace repro::dp {

const char* random_source_name(RandomSource source) {
  return source == RandomSource::kSecureSeed ? "secure_seed" : "seeded";
}

RandomSource random_source_from_name(const std::string& name) {
  if (name == "seeded") return RandomSource::kSeeded;
  if (name == "secure_seed") return RandomSource::kSecureSeed;
  throw ConfigError("randomness '" + name + "' is not seeded or secure_seed");
}

uint64_t secure_seed() {
  uint64_t seed = 0;
  auto* p = reinterpret_cast<unsigned char*>(&seed);
  size_t got = 0;
  while (got < sizeof seed) {
    const ssize_t n = ::getrandom(p + got, sizeof seed - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw IoError(std::string("getrandom failed: ") + std::strerror(errno));
    got += static_cast<size_t>(n);
  }
  return seed;
}

uint64_t seed_for(RandomSource source, uint64_t seed) { return source == RandomSource::kSecureSeed ? secure_seed() : seed; }

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
    : n_(n), q_(q), generator_(make_noise_generator(seed_for(source, seed))) {
  if (n < 1) throw ConfigError("Poisson sampling: the population is empty");
  if (!(q >= 0.0 && q <= 1.0)) throw ConfigError("Poisson sampling: rate " + std::to_string(q) + " is not in [0, 1]");
}

at::Tensor PoissonSampler::next() {
  const at::Tensor u = at::rand({n_}, generator_, at::TensorOptions().dtype(at::kDouble));
  return u.lt(q_).nonzero().view({-1});
}

}  // namespace repro::dp
