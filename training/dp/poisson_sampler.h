#pragma once
// Poisson sampling of DP-SGD lots, as the sampled Gaussian mechanism that the accountant assumes
// (Abadi et al., arXiv 1607.00133, Sec. 3.1; Mironov, Talwar, Zhang, arXiv 1908.10530): every
// example joins a lot independently with probability q, so a lot's size is Binomial(n, q) and may
// be 0. Opacus's UniformWithReplacementSampler (opacus/utils/uniform_sampler.py) draws the same
// way: one uniform per example per lot, kept when below q.
//
// The lot plan follows Opacus's make_private (opacus/privacy_engine.py), which SPARTA's code
// (mazumder-lab/SPARTA, src/opacus_per_sample/privacy_engine_per_sample.py) uses unchanged: a
// loader of batch size L_target over n examples has ceil(n / L_target) batches, so
//   lots per epoch = ceil(n / L_target),  q = 1 / lots per epoch,  expected lot L = int(n q).
// (L = q n exactly whenever L_target divides n, as in every SPARTA setting: 50000 / 500.)

#include <cstdint>

#include <string>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace repro::dp {

// Where the randomness of sampling and noise comes from; records say which one a run used.
//  - kSeeded: generators seeded from the run's seed: reproducible bit for bit (tests, research runs);
//  - kSecureSeed: each generator seeded with 64 bits from the operating system's CSPRNG (getrandom),
//    never recorded, so nobody (the run's author included) can replay the noise. The streams are
//    still Mersenne Twister, not a CSPRNG: Opacus's secure_mode (torchcsprng, and noise summed twice
//    against floating-point attacks) goes further, and is not implemented here.
enum class RandomSource { kSeeded, kSecureSeed };
const char* random_source_name(RandomSource source);  // "seeded" | "secure_seed"
// "seeded" | "secure_seed" -> the source; ConfigError otherwise.
RandomSource random_source_from_name(const std::string& name);
// 64 bits from getrandom(2) (the kernel's CSPRNG). IoError when the kernel refuses.
uint64_t secure_seed();
// The seed a generator of this source uses: `seed` when seeded, a fresh secure_seed() otherwise.
uint64_t seed_for(RandomSource source, uint64_t seed);

struct LotPlan {
  int64_t lots_per_epoch = 0;
  double sample_rate = 0.0;        // q
  double expected_lot_size = 0.0;  // L = int(n q), what DP-SGD normalises by
};

// n examples, lots of `lot_size` on average. Throws ConfigError for n < 1 or lot_size < 1.
LotPlan plan_lots(int64_t n, int64_t lot_size);

class PoissonSampler {
 public:
  // Draws lots over n examples at rate q in [0, 1] from a CPU generator seeded with `seed`.
  // (a secure seed instead of `seed` for RandomSource::kSecureSeed). ConfigError for arguments out of range.
  PoissonSampler(int64_t n, double q, uint64_t seed, RandomSource source = RandomSource::kSeeded);

  // The next lot: [|B|] int64 CPU, the chosen example indices in increasing order (possibly empty).
  at::Tensor next();

  int64_t population() const { return n_; }
  double rate() const { return q_; }

 private:
  int64_t n_;
  double q_;
  at::Generator generator_;
};

}  // namespace repro::dp
