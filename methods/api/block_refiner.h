#pragma once
// BlockRefiner: after every linear of a decoder block is compressed, trains the block's compressed
// parameters so that its outputs match the dense block's on the same inputs (3BASiL's transformer
// matching, arXiv 2603.01376 §3.3; GSQ's block-wise training). The compressed structure is kept:
// masks stay masks and quantized codes stay on their grid.

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "methods/method.h"

namespace repro {

class DecoderBlock;

// What the engine hands a refiner for block i, all on ctx.device().
struct BlockIO {
  at::Tensor inputs;     // [n, T, D] the block's calibration inputs, produced by the already
                         // compressed (and refined) blocks 0..i-1
  at::Tensor targets;    // [n, T, D] the DENSE block i's outputs on `inputs`
  at::Tensor positions;  // [T] int64 position ids
  int64_t batch_size = 8;  // sequences per forward, as the engine calibrates
};

class BlockRefiner : public Method {
 public:
  static constexpr const char* kFamily = "BlockRefiner";
  // Updates `block` (its Linear::compressed forms, norms, biases) in place. The block is on
  // ctx.device() in the model's dtype; gradients are enabled (the engine's other stages run
  // without). Leave no tensor requiring grad behind. `io` is read-only: the engine recomputes the
  // block's outputs afterwards.
  virtual void refine(DecoderBlock& block, const BlockIO& io, RunContext& ctx) = 0;
};

}  // namespace repro
