#!/usr/bin/env python3
"""transformer_golden.py - makes tests/fixtures/transformer/golden.safetensors: a small
torch.nn.Transformer's state_dict (d_model 64, 2 heads, 2+2 layers, ff 128), fixed inputs, and
PyTorch's outputs of model(src, src) for them, so hwscope's engine can be checked against PyTorch.

Each case is a sequence-first input (S, N, 64):  golden.<case>.src, and outputs
  golden.<case>.out        float64 on the GPU (the reference), stored as F32
  golden.<case>.torch_fp32 / torch_fp16 / torch_bf16   PyTorch in that precision (for scale)
  golden.<case>.ref_wfp16 / ref_wbf16   float64 with weights and input first rounded to FP16 /
                                        BF16: what a 16-bit engine can at best reach
Run once on the real GPU:  python3 bench/scripts/transformer_golden.py OUT.safetensors
"""
import copy
import json
import struct
import sys

import torch

CFG = dict(d_model=64, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=128)
CASES = {"a": (6, 3), "b": (1, 8), "c": (40, 2)}  # (S, N): short, the guide's S=1, long


def write_safetensors(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        dtype = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}[t.dtype]
        raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "golden.safetensors"
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(1234)
    model = torch.nn.Transformer(**CFG, dropout=0.0)
    with torch.no_grad():  # LayerNorms away from (1, 0), so a test sees them used
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    model.eval()
    tensors = {k: v.float().clone() for k, v in model.state_dict().items()}
    variants = {"out": torch.float64, "torch_fp32": torch.float32, "torch_fp16": torch.float16,
                "torch_bf16": torch.bfloat16}
    models = {k: copy.deepcopy(model).to(dev, dt) for k, dt in variants.items()}
    rounded = {"ref_wfp16": torch.float16, "ref_wbf16": torch.bfloat16}
    for k, dt in rounded.items():
        m = copy.deepcopy(model)
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(p.to(dt).float())
        models[k] = m.to(dev, torch.float64)
    gen = torch.Generator().manual_seed(99)
    with torch.inference_mode():
        for case, (S, N) in CASES.items():
            x = torch.rand(S, N, CFG["d_model"], generator=gen)
            tensors[f"golden.{case}.src"] = x
            for k, dt in variants.items():
                xi = x.to(dev, dt)
                tensors[f"golden.{case}.{k}"] = models[k](xi, xi).float().cpu()
            for k, dt in rounded.items():
                xi = x.to(dt).to(dev, torch.float64)
                tensors[f"golden.{case}.{k}"] = models[k](xi, xi).float().cpu()
    meta = {k: str(v) for k, v in CFG.items()}
    meta.update(layer_norm_eps="1e-05", cases=",".join(f"{c}:{s}x{n}" for c, (s, n) in CASES.items()),
                torch=torch.__version__,
                device=torch.cuda.get_device_name(0) if dev == "cuda" else "cpu")
    write_safetensors(out_path, tensors, meta)
    for case in CASES:
        ref = tensors[f"golden.{case}.out"]
        errs = {k: (tensors[f"golden.{case}.{k}"] - ref).abs().max().item()
                for k in list(variants) + list(rounded) if k != "out"}
        print(f"case {case} {tuple(ref.shape)}: PyTorch max abs error vs float64: {errs}")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
