#pragma once
// What a decoder block does in its forward besides the dense computation: the online Hadamard
// rotations of QuaRot (arXiv 2404.00456 §4: R3 on queries and keys after RoPE, R4 before
// down_proj, and the across-heads part of the o_proj input rotation), and fake quantization of the
// linear inputs and of the KV cache (§4, "KV cache quantization"). Model transforms set it
// (hadamard_rotation, act_quant); all off by default, and then the forward pays a few flag tests.
//
// Order inside DecoderBlock::forward (fixed, whatever order the transforms ran in):
//   x = n1(h) -> act(x) -> q, k, v = q_proj(x), k_proj(x), v_proj(x) -> RoPE(q, k)
//   -> [qk_hadamard] H q, H k per head -> kv(k), kv(v) -> attention -> [o_heads_hadamard]
//   -> act -> o_proj;   x = n2(h) -> act(x) -> gate/up -> [down_hadamard] H -> act -> down_proj
// A Linear's input hook (the engine's Hessian accumulator) sees the input after rotation and,
// unless paused, after fake quantization.

#include "models/fake_quant.h"

namespace repro {

class CausalLM;

struct ForwardSim {
  // Online rotations: they keep the function only together with the weight changes that
  // hadamard_rotation makes, so nothing else should set them.
  bool qk_hadamard = false;       // H_hd on every query and key head after RoPE (cancels in q k^T)
  bool o_heads_hadamard = false;  // (H_Hq ⊗ I_hd) on o_proj's input; o_proj's weight absorbs it
  bool down_hadamard = false;     // H_I on down_proj's input; down_proj's weight absorbs it

  // Simulated quantization: changes the function.
  FakeQuantSpec act;              // the input of every linear of the block (lm_head excluded)
  FakeQuantSpec k, v;             // keys (after RoPE and rotation) and values, per token;
                                  // groups along the flattened [Hkv * hd] per-token vector
  bool quant_during_calibration = false;  // whether QuantSimPause leaves the fake quantization on
  bool paused = false;                    // set by QuantSimPause

  bool act_on() const { return act.on() && !paused; }
  bool kv_on() const { return (k.on() || v.on()) && !paused; }
};

// Turns the fake quantization of every block off for its lifetime (the rotations stay: they are
// part of the function), except where the block's quant_during_calibration is set. The layer-wise
// engine holds one while it calibrates: QuaRot and SpinQuant collect GPTQ's Hessians before they
// install their activation quantizers (spcl/QuaRot fake_quant/main.py; facebookresearch/SpinQuant
// eval_utils/main.py), so the weights are fitted to full-precision inputs.
class QuantSimPause {
 public:
  explicit QuantSimPause(CausalLM& model);
  ~QuantSimPause();
  QuantSimPause(const QuantSimPause&) = delete;
  QuantSimPause& operator=(const QuantSimPause&) = delete;

 private:
  CausalLM& model_;
};

}  // namespace repro
