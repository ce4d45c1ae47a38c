// QuaRot-style Hadamard rotations (Ashkboos et al., arXiv 2404.00456 §4; code spcl/QuaRot,
// fake_quant/rotation_utils.py): the model computes the same function with weights and
// activations that have far smaller outliers, so that 4-bit weights and activations lose less.
//
//   fuse every RMSNorm weight into the linears that read its output (norms become all ones);
//   R1 = random Hadamard [D, D] on the residual stream: W_embed R1, readers W R1, writers R1^T W,
//     lm_head W R1 (exact: RMSNorm without weight commutes with an orthogonal R1);
//   R2 (rotate_ov): H_hd on each value head (v_proj's output side), absorbed by o_proj, plus QuaRot's
//     online across-heads Hadamard on o_proj's input, so o_proj sees a full Hadamard-rotated input;
//   R3 (rotate_qk): online H_hd on queries and keys after RoPE (cancels in q k^T);
//   R4 (rotate_down): online H_I on down_proj's input, absorbed by down_proj's weight.
// The online parts are set on each block's ForwardSim and run in DecoderBlock::forward.

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/model_transform.h"
#include "models/hadamard.h"
#include "models/llama.h"

namespace repro {
namespace {

// Rows per chunk when a large matrix (an embedding) is multiplied by R1 in fp64.
constexpr int64_t kRowChunk = 8192;

// W [rows, D] -> W R1 in W's dtype, computed in fp64 chunk by chunk.
at::Tensor times_r1(const at::Tensor& W, const at::Tensor& R1) {
  std::vector<at::Tensor> parts;
  for (int64_t r = 0; r < W.size(0); r += kRowChunk) {
    at::Tensor c = W.narrow(0, r, std::min(kRowChunk, W.size(0) - r)).to(at::kDouble);
    parts.push_back(at::matmul(c, R1).to(W.scalar_type()));
  }
  return parts.size() == 1 ? parts[0] : at::cat(parts, 0);
}

class HadamardRotation final : public ModelTransform {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{
        "hadamard_rotation",
        ModelTransform::kFamily,
        "QuaRot: fuse norms, random Hadamard on the residual stream, online Hadamards on values, q/k and down_proj",
        "Ashkboos et al. 2024, QuaRot (arXiv 2404.00456)",
        "1",
        {param_bool("rotate_ov", true, "R2: Hadamard per value head (v_proj/o_proj) + online across heads before o_proj"),
         param_bool("rotate_qk", true, "R3: online Hadamard on queries and keys after RoPE"),
         param_bool("rotate_down", true, "R4: online Hadamard on down_proj's input")}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    rotate_ov_ = params.get_bool("rotate_ov");
    rotate_qk_ = params.get_bool("rotate_qk");
    rotate_down_ = params.get_bool("rotate_down");
  }

  void apply(CausalLM& model, const at::Tensor&, RunContext& ctx) override {
    at::NoGradGuard no_grad;
    const LlamaConfig& c = model.config();
    const int64_t D = c.hidden_size, hd = c.head_dim, Hq = c.num_attention_heads, Hkv = c.num_key_value_heads;
    check_size(D, "hidden_size");
    if (rotate_ov_ || rotate_qk_) check_size(hd, "head_dim");
    if (rotate_ov_) check_size(Hq, "num_attention_heads");
    if (rotate_down_) check_size(c.intermediate_size, "intermediate_size");
    for (int64_t i = 0; i < model.num_layers(); ++i) {
      const ForwardSim& s = model.block(i).sim;
      if (s.qk_hadamard || s.o_heads_hadamard || s.down_hadamard)
        throw ConfigError("hadamard_rotation: the model is already rotated (the transform is listed twice?)");
      for (const auto& name : DecoderBlock::linear_names())
        REPRO_ASSERT(!model.block(i).linear(name).is_compressed(), "transforms run before compression");
    }

    // R1 = diag(s) H^T with random signs s: orthogonal, and incoherent like H (QuaRot's
    // random_hadamard_matrix).
    const c10::Device dev = model.embed_tokens.device();
    at::Tensor signs = at::randint(0, 2, {D}, ctx.generator("hadamard_rotation"), at::TensorOptions().dtype(at::kDouble))
                           .mul_(2)
                           .sub_(1);
    const at::Tensor R1 = hadamard_transform(at::diag(signs), "hidden_size").to(dev);
    const at::Tensor R1t = R1.t().contiguous();

    // A reader of the residual stream after a norm with weight n: W -> (W diag(n)) R1.
    auto read = [&](Linear& l, const at::Tensor& n) {
      l.weight = times_r1(l.weight.to(at::kDouble).mul(n.to(at::kDouble)), R1).to(l.weight.scalar_type());
    };
    // A writer to the residual stream: W -> R1^T W, b -> R1^T b.
    auto write = [&](Linear& l) {
      l.weight = at::matmul(R1t, l.weight.to(at::kDouble)).to(l.weight.scalar_type());
      if (l.bias.defined()) l.bias = at::matmul(R1t, l.bias.to(at::kDouble)).to(l.bias.scalar_type());
    };

    model.untie_weights();  // lm_head absorbs the final norm, the embedding does not
    model.embed_tokens = times_r1(model.embed_tokens, R1);
    read(model.lm_head, model.norm);
    model.norm = at::ones_like(model.norm);

    for (int64_t i = 0; i < model.num_layers(); ++i) {
      DecoderBlock& b = model.block(i);
      for (Linear* l : {&b.q_proj, &b.k_proj, &b.v_proj}) read(*l, b.input_layernorm);
      for (Linear* l : {&b.gate_proj, &b.up_proj}) read(*l, b.post_attention_layernorm);
      b.input_layernorm = at::ones_like(b.input_layernorm);
      b.post_attention_layernorm = at::ones_like(b.post_attention_layernorm);

      if (rotate_ov_) {
        // v_proj's output per head: v -> H v, i.e. W_v -> (I ⊗ H) W_v, b_v -> (I ⊗ H) b_v.
        Linear& v = b.v_proj;
        const at::Tensor Wt = v.weight.to(at::kDouble).t().reshape({D, Hkv, hd});
        v.weight = hadamard_transform(Wt).reshape({D, Hkv * hd}).t().contiguous().to(v.weight.scalar_type());
        if (v.bias.defined())
          v.bias = hadamard_transform(v.bias.to(at::kDouble).view({Hkv, hd})).reshape({-1}).to(v.bias.scalar_type());
        // o_proj's input is then (I ⊗ H_hd) a, and the forward applies (H_Hq ⊗ I) to it: a linear
        // reading T a keeps its function with rows w -> T w (W T^T).
        Linear& o = b.o_proj;
        at::Tensor Wo = hadamard_transform(o.weight.to(at::kDouble).view({D, Hq, hd})).view({D, Hq * hd});
        o.weight = hadamard_transform_groups(Wo, hd).to(o.weight.scalar_type());
      }
      write(b.o_proj);

      if (rotate_down_) {
        Linear& d = b.down_proj;
        d.weight = hadamard_transform(d.weight.to(at::kDouble)).to(d.weight.scalar_type());  // W H^T
      }
      write(b.down_proj);

      b.sim.qk_hadamard = rotate_qk_;
      b.sim.o_heads_hadamard = rotate_ov_;
      b.sim.down_hadamard = rotate_down_;
    }
  }

 private:
  static void check_size(int64_t n, const char* what) {
    if (!hadamard_supported(n))
      throw NotSupported(fmt::format("hadamard_rotation: {} = {} has no Hadamard matrix here (it must be K * 2^m with "
                                     "K = 1 or a Paley order: 12, 20, 24, 28, 36, 44, ...)",
                                     what, n));
  }

  bool rotate_ov_ = true, rotate_qk_ = true, rotate_down_ = true;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(ModelTransform, repro::HadamardRotation);
