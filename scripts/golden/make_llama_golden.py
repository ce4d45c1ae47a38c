#!/usr/bin/env python3
"""Makes the golden files of tests/models/golden_test.cpp with Hugging Face transformers.

For each architecture (llama, llama-3.1 rope scaling, mistral, qwen2, qwen3) it builds a tiny
random model in fp32 with every parameter perturbed (norms away from 1, biases away from 0),
saves it in HF layout (config.json + model.safetensors), runs the eager attention path on random
token ids and stores input_ids + logits in golden.safetensors. (Token ids are checked against
Hugging Face's tokenizers by scripts/golden/fetch_tokenizers.sh, which runs here.)

Needs: torch, transformers (>= 4.45 for Qwen3: >= 4.51), safetensors. Run it where they
are installed (not on the build machine), then commit tests/models/golden/:

    python3 scripts/golden/make_llama_golden.py --out tests/models/golden
"""
import argparse
import os

import torch
from safetensors.torch import save_file

def common(vocab):
    return dict(vocab_size=vocab, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                bos_token_id=1, eos_token_id=2, attn_implementation="eager")


def configs(vocab):
    import transformers as tf
    out = {
        "llama": tf.LlamaConfig(**common(vocab)),
        "llama31": tf.LlamaConfig(**common(vocab), rope_scaling={
            "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 32}),
        "mistral": tf.MistralConfig(**{**common(vocab), "sliding_window": 8}),
        "qwen2": tf.Qwen2Config(**common(vocab)),
    }
    if hasattr(tf, "Qwen3Config"):
        out["qwen3"] = tf.Qwen3Config(**{**common(vocab), "head_dim": 24, "tie_word_embeddings": True})
    return out


def perturb(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/models/golden")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from transformers import AutoModelForCausalLM
    vocab = 512
    for name, cfg in configs(vocab).items():
        d = os.path.join(args.out, name)
        os.makedirs(d, exist_ok=True)
        gen = torch.Generator().manual_seed(args.seed)
        torch.manual_seed(args.seed)
        model = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.float32).eval()
        perturb(model, gen)
        if cfg.tie_word_embeddings:
            model.tie_weights()
        model.save_pretrained(d, safe_serialization=True)
        ids = torch.randint(vocab, (2, 24), generator=gen)
        with torch.no_grad():
            logits = model(input_ids=ids).logits.float()
        save_file({"input_ids": ids.contiguous(), "logits": logits.contiguous()},
                  os.path.join(d, "golden.safetensors"))
        print(f"{name}: logits {tuple(logits.shape)}, |max| {logits.abs().max():.3f}")


if __name__ == "__main__":
    main()
