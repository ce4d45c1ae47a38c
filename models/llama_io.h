#pragma once
// Loading and saving CausalLM in the Hugging Face folder layout: config.json plus model.safetensors
// (or shards + model.safetensors.index.json), with HF tensor names:
//   model.embed_tokens.weight, model.norm.weight, lm_head.weight (absent when tied),
//   model.layers.{i}.input_layernorm.weight, model.layers.{i}.post_attention_layernorm.weight,
//   model.layers.{i}.self_attn.{q,k,v,o}_proj.{weight,bias}, model.layers.{i}.self_attn.{q,k}_norm.weight,
//   model.layers.{i}.mlp.{gate,up,down}_proj.{weight,bias}.

#include <filesystem>
#include <memory>

#include <ATen/core/Tensor.h>

#include "models/llama.h"

namespace repro {

// Loads config.json and the checkpoint of `dir`, converting every parameter to `dtype` (a float
// type) on `device`. ModelError when tensors are missing or unknown (one message naming up to 10
// of each, with counts), when a shape disagrees with config.json (naming the tensor, its file and
// both shapes), or when a tensor is not floating point. Pickle checkpoints are refused.
// Ignored: rotary inv_freq buffers and lm_head.weight of a tied model.
std::unique_ptr<CausalLM> load_causal_lm(const std::filesystem::path& dir, c10::ScalarType dtype = at::kFloat,
                                         c10::Device device = at::kCPU);

class CheckpointReader;
// The checks load_causal_lm makes before reading a weight: every parameter slot of `model` (a
// skeleton built from the folder's config.json) present in `reader` with its shape and a floating
// dtype, and no unknown tensor. ModelError as load_causal_lm describes.
void check_checkpoint(const std::filesystem::path& dir, const CheckpointReader& reader, CausalLM& model);

// Writes config.json (torch_dtype set to `dtype`) and model.safetensors (metadata format=pt, as
// transformers expects) into `dir`, creating it. Compressed linears are written as their dense
// reconstruction. Both files are written atomically.
void save_causal_lm(CausalLM& model, const std::filesystem::path& dir, c10::ScalarType dtype = at::kFloat);

// "float32" / "bfloat16" / "float16" <-> ATen dtypes (ModelError on other names).
c10::ScalarType dtype_from_name(const std::string& name);
std::string dtype_name(c10::ScalarType dtype);

}  // namespace repro
