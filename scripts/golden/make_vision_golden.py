#!/usr/bin/env python3
"""Makes the golden files of tests/models/vision/vision_golden_test.cpp with PyTorch.

References, none of them ReproBench code:
  - resnet18_gn, wrn_28_10_gn: SPARTA's own model classes (mazumder-lab/SPARTA, src/models/resnet.py
    and src/models/wide_resnet.py, imported from a checkout given with --sparta), with every
    BatchNorm2d(C) replaced by GroupNorm(min(32, C), C) under the same name, as Opacus's
    ModuleValidator.fix does before SPARTA loads its GroupNorm checkpoints;
  - deit_*: torchvision's VisionTransformer (the same pre-norm ViT as timm's, eps 1e-6, exact GELU,
    class-token pooling), its tensors renamed to timm's names.

For each case it writes <out>/<case>/config.json (ReproBench's VisionConfig) and
<out>/<case>/golden.safetensors holding "input" [2, C, S, S] and "logits" [2, classes]. The weights
are not stored: both sides fill every parameter from its timm/SPARTA name with the formula of
fill_parameters() below. <out>/names.json lists the name and shape of every tensor of the
full-size ResNet-18 (100 classes) and WRN-28-10 (10 classes) after the GroupNorm conversion.

Needs torch and torchvision (Debian 12: apt-get install python3-torch python3-torchvision, CPU
1.13 / 0.14) and a checkout of mazumder-lab/SPARTA. Run from the repository root:

    python3 scripts/golden/make_vision_golden.py --sparta ../SPARTA --out tests/models/golden/vision
"""
import argparse
import importlib.util
import json
import math
import os
import struct

import torch
import torch.nn as nn


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def batchnorm_to_groupnorm(module):
    """Opacus's fix for BatchNorm: GroupNorm(min(32, C), C, affine=True) under the same name."""
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, nn.GroupNorm(min(32, child.num_features), child.num_features, affine=True))
        else:
            batchnorm_to_groupnorm(child)
    return module


def fill_parameters(shapes):
    """name -> shape  =>  name -> float32 tensor; tests/models/vision/vision_golden_test.cpp repeats it.

    k = rank of the name in sorted order; t = sin(0.7 * i + k + 1) for i = 0..numel-1 (float64).
    Weights with >= 2 dimensions: t * sqrt(2 / fan_in), fan_in = numel / shape[0]; other weights
    (norms): 1 + 0.1 t; everything else (biases, cls_token, pos_embed): 0.1 t.
    """
    out = {}
    for k, name in enumerate(sorted(shapes)):
        shape = list(shapes[name])
        n = math.prod(shape)
        t = torch.sin(torch.arange(n, dtype=torch.float64) * 0.7 + (k + 1))
        if name.endswith("weight") and len(shape) >= 2:
            t = t * math.sqrt(2.0 / (n // shape[0]))
        elif name.endswith("weight"):
            t = 1.0 + 0.1 * t
        else:
            t = 0.1 * t
        out[name] = t.to(torch.float32).reshape(shape)
    return out


def save_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def tv_to_timm(name):
    """torchvision VisionTransformer tensor name -> timm's."""
    fixed = {"class_token": "cls_token", "encoder.pos_embedding": "pos_embed", "conv_proj.weight":
             "patch_embed.proj.weight", "conv_proj.bias": "patch_embed.proj.bias", "encoder.ln.weight":
             "norm.weight", "encoder.ln.bias": "norm.bias", "heads.head.weight": "head.weight",
             "heads.head.bias": "head.bias"}
    if name in fixed:
        return fixed[name]
    prefix = "encoder.layers.encoder_layer_"
    assert name.startswith(prefix), name
    i, rest = name[len(prefix):].split(".", 1)
    rest = {"ln_1.weight": "norm1.weight", "ln_1.bias": "norm1.bias", "ln_2.weight": "norm2.weight",
            "ln_2.bias": "norm2.bias", "self_attention.in_proj_weight": "attn.qkv.weight",
            "self_attention.in_proj_bias": "attn.qkv.bias", "self_attention.out_proj.weight": "attn.proj.weight",
            "self_attention.out_proj.bias": "attn.proj.bias", "mlp.0.weight": "mlp.fc1.weight",
            "mlp.0.bias": "mlp.fc1.bias", "mlp.3.weight": "mlp.fc2.weight", "mlp.3.bias": "mlp.fc2.bias"}[rest]
    return f"blocks.{i}.{rest}"


def run_case(out_dir, case, model, config, names_of=lambda n: n):
    model.eval()
    params = dict(model.named_parameters())
    ours = {names_of(n): n for n in params}
    values = fill_parameters({o: params[n].shape for o, n in ours.items()})
    with torch.no_grad():
        for o, n in ours.items():
            params[n].copy_(values[o])
        torch.manual_seed(0)
        x = torch.randn(2, config["in_channels"], config["image_size"], config["image_size"])
        logits = model(x)
    os.makedirs(os.path.join(out_dir, case), exist_ok=True)
    with open(os.path.join(out_dir, case, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    save_safetensors(os.path.join(out_dir, case, "golden.safetensors"), {"input": x, "logits": logits},
                     {"torch": torch.__version__})
    print(f"{case}: {sum(p.numel() for p in params.values())} parameters, logits {tuple(logits.shape)}")


def vision_config(arch, classes, **kw):
    c = {"architecture": arch, "num_classes": classes, "in_channels": 3, "image_size": 32, "width": 0, "depth": 0,
         "num_heads": 0, "patch_size": 0, "mlp_ratio": 0, "norm_groups": 0, "norm_eps": 1e-5}
    c.update(kw)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sparta", required=True, help="a checkout of mazumder-lab/SPARTA")
    ap.add_argument("--out", default="tests/models/golden/vision")
    args = ap.parse_args()
    torch.set_num_threads(1)
    resnet = load_module(os.path.join(args.sparta, "src/models/resnet.py"), "sparta_resnet")
    wrn = load_module(os.path.join(args.sparta, "src/models/wide_resnet.py"), "sparta_wide_resnet")
    os.makedirs(args.out, exist_ok=True)

    names = {
        "resnet18_gn_100": batchnorm_to_groupnorm(resnet.ResNet18(num_classes=100)),
        "wrn_28_10_gn_10": batchnorm_to_groupnorm(wrn.Wide_ResNet(28, 10, 0.0, 10)),
    }
    with open(os.path.join(args.out, "names.json"), "w") as f:  # one tensor a line
        blocks = []
        for key, m in names.items():
            rows = ",\n".join(f"  {json.dumps([n, list(t.shape)])}" for n, t in m.state_dict().items())
            blocks.append(f" {json.dumps(key)}: [\n{rows}\n ]")
        f.write("{\n" + ",\n".join(blocks) + "\n}\n")

    run_case(args.out, "resnet18_gn", batchnorm_to_groupnorm(resnet.ResNet18(num_classes=10)),
             vision_config("resnet18_gn", 10, width=64, depth=18))
    run_case(args.out, "wrn_28_10_gn", batchnorm_to_groupnorm(wrn.Wide_ResNet(10, 2, 0.0, 3)),
             vision_config("wrn_28_10_gn", 3, width=2, depth=10))
    import torchvision
    vit = torchvision.models.VisionTransformer(image_size=8, patch_size=4, num_layers=2, num_heads=2, hidden_dim=16,
                                               mlp_dim=64, num_classes=3)
    run_case(args.out, "deit_tiny", vit,
             vision_config("deit_tiny", 3, image_size=8, width=16, depth=2, num_heads=2, patch_size=4, mlp_ratio=4,
                           norm_eps=1e-6),
             names_of=tv_to_timm)


if __name__ == "__main__":
    main()
