// Activation and KV-cache fake quantization in the model forward, as QuaRot (arXiv 2404.00456 §4,
// code spcl/QuaRot fake_quant/quant_utils.py ActQuantizer, rotation_utils.py QKRotationWrapper)
// and SpinQuant (arXiv 2405.16406, code facebookresearch/SpinQuant) simulate W?A?KV? settings:
// every block linear's input is quantized per token with a dynamic range (lm_head is not), keys
// after RoPE (and the R3 rotation) and values are quantized per token in groups before attention.
// The transform only installs the settings on each block's ForwardSim; DecoderBlock::forward
// applies them after any online Hadamard.

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/model_transform.h"
#include "models/llama.h"

namespace repro {
namespace {

class ActQuant final : public ModelTransform {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{
        "act_quant",
        ModelTransform::kFamily,
        "fake-quantize every linear's input per token and the KV cache per group in the forward (16 = off)",
        "simulation of QuaRot (arXiv 2404.00456) / SpinQuant (arXiv 2405.16406)",
        "1",
        {param_int("a_bits", 16, "bits of the linear inputs, per token; 16 = off").range(2, 8).or_value(16),
         param_float("a_clip", 1.0, "activation range clip ratio (QuaRot code default 1.0; its paper uses 0.9)")
             .above(0)
             .at_most(1),
         param_bool("a_asym", false, "asymmetric activation grid (QuaRot's --a_asym); default symmetric absmax"),
         param_int("kv_bits", 16, "bits of keys and values; 16 = off").range(2, 8).or_value(16),
         param_int("kv_group", 0, "values per (scale, zero) along the per-token [Hkv * head_dim] vector; 0 = head_dim")
             .at_least(0),
         param_float("kv_clip", 0.95, "key/value range clip ratio").above(0).at_most(1),
         param_bool("kv_asym", true, "asymmetric key/value grid"),
         param_bool("calib_quant", false,
                    "collect the engine's Hessians with the fake quantization on (QuaRot/SpinQuant: off)")}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    act_ = {params.get_int("a_bits"), 0, params.get_float("a_clip"), params.get_bool("a_asym")};
    kv_ = {params.get_int("kv_bits"), params.get_int("kv_group"), params.get_float("kv_clip"),
           params.get_bool("kv_asym")};
    calib_quant_ = params.get_bool("calib_quant");
  }

  void apply(CausalLM& model, const at::Tensor&, RunContext&) override {
    const LlamaConfig& c = model.config();
    const int64_t hd = c.head_dim, width = c.num_key_value_heads * hd;
    FakeQuantSpec kv = kv_;
    if (kv.group == 0) kv.group = hd;
    // Groups either split a head or cover whole heads, so that one group never straddles two heads
    // partially.
    if (!(hd % kv.group == 0 || (kv.group % hd == 0 && width % kv.group == 0)))
      throw ConfigError(fmt::format("act_quant: kv_group = {} must divide head_dim = {} or be a multiple of it that "
                                    "divides num_key_value_heads * head_dim = {}",
                                    kv.group, hd, width));
    for (int64_t i = 0; i < model.num_layers(); ++i) {
      ForwardSim& s = model.block(i).sim;
      s.act = act_;
      s.k = kv;
      s.v = kv;
      s.quant_during_calibration = calib_quant_;
    }
  }

 private:
  FakeQuantSpec act_, kv_;
  bool calib_quant_ = false;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(ModelTransform, repro::ActQuant);
