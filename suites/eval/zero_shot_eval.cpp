#include "suites/eval/zero_shot_eval.h"

#include <ATen/ATen.h>

#include <algorithm>

#include <ATen/core/grad_mode.h>

#include "core/error.h"

namespace repro {

namespace {

struct Sequence {
  std::vector<int64_t> input;  // context + continuation minus the last token, left-truncated
  int64_t cont_start = 0;      // position in `input` whose logits predict the first continuation token
  std::vector<int64_t> cont;   // continuation ids
  size_t request = 0, choice = 0;
};

}  // namespace

std::vector<std::vector<double>> choice_loglikelihoods(const CausalLM& model, const Tokenizer& tokenizer,
                                                       const std::vector<McRequest>& requests,
                                                       const ZeroShotOptions& o, RunContext& ctx,
                                                       const std::string& label) {
  at::NoGradGuard no_grad;
  std::vector<Sequence> seqs;
  for (size_t r = 0; r < requests.size(); ++r) {
    for (size_t c = 0; c < requests[r].num_choices(); ++c) {
      auto [ctx_ids, cont_ids] =
          encode_mc_pair(tokenizer, requests[r].context(c), requests[r].continuation(c), o.add_bos);
      if (cont_ids.empty()) throw DataError("a zero-shot continuation encodes to no tokens");
      std::vector<int64_t> whole = ctx_ids;
      whole.insert(whole.end(), cont_ids.begin(), cont_ids.end());
      // lm-eval: inp = (context + continuation)[-(max_length + 1):][:-1].
      size_t keep = std::min<size_t>(whole.size(), static_cast<size_t>(o.max_length) + 1);
      std::vector<int64_t> tail(whole.end() - static_cast<std::ptrdiff_t>(keep), whole.end());
      Sequence s;
      s.input.assign(tail.begin(), tail.end() - 1);
      s.cont = cont_ids;
      s.cont_start = static_cast<int64_t>(s.input.size()) - static_cast<int64_t>(cont_ids.size());
      REPRO_ASSERT(s.cont_start >= 0, "continuation longer than the context window");
      s.request = r;
      s.choice = c;
      seqs.push_back(std::move(s));
    }
  }
  // Longest first, as lm-eval orders them; padding on the right cannot affect a causal LM's
  // logits at earlier positions.
  std::vector<size_t> order(seqs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return seqs[a].input.size() > seqs[b].input.size(); });

  std::vector<std::vector<double>> out(requests.size());
  for (size_t r = 0; r < requests.size(); ++r) out[r].assign(requests[r].num_choices(), 0.0);
  auto progress = ctx.progress(label, static_cast<int64_t>(seqs.size()));
  for (size_t b = 0; b < order.size(); b += static_cast<size_t>(o.batch_size)) {
    size_t e = std::min(order.size(), b + static_cast<size_t>(o.batch_size));
    int64_t len = static_cast<int64_t>(seqs[order[b]].input.size());
    at::Tensor batch = at::zeros({static_cast<int64_t>(e - b), len}, at::TensorOptions().dtype(at::kLong));
    for (size_t k = b; k < e; ++k) {
      const auto& in = seqs[order[k]].input;
      batch[static_cast<int64_t>(k - b)].slice(0, 0, static_cast<int64_t>(in.size()))
          .copy_(at::tensor(in, at::TensorOptions().dtype(at::kLong)));
    }
    at::Tensor logp = at::log_softmax(model.forward(batch.to(ctx.device())), -1).to(at::kCPU);  // [B, L, V]
    for (size_t k = b; k < e; ++k) {
      const Sequence& s = seqs[order[k]];
      at::Tensor rows = logp[static_cast<int64_t>(k - b)].slice(0, s.cont_start, s.cont_start + static_cast<int64_t>(s.cont.size()));
      at::Tensor ids = at::tensor(s.cont, at::TensorOptions().dtype(at::kLong)).unsqueeze(1);
      out[s.request][s.choice] = rows.gather(1, ids).sum().item<double>();
    }
    progress->advance(static_cast<int64_t>(e - b));
  }
  progress->finish();
  return out;
}

}  // namespace repro
