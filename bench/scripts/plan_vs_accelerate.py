#!/usr/bin/env python3
"""plan_vs_accelerate.py - hwscope plan's memory figures against accelerate and against PyTorch.

For each model folder under --configs (each holding a Hugging Face config.json, no weights):
  - accelerate: init_empty_weights + compute_module_sizes at bf16 (what `accelerate
    estimate-memory` computes, without the Hub), and its int4 figure (params x 0.5 bytes);
  - hwscope: the `hwscope plan <folder> --dtype bf16 --json` document saved as --plans/<name>.json;
  - PyTorch, for the models named in --gpu-models: the model built on the GPU in bf16 with random
    weights (torch.cuda.memory_allocated), the KV cache of a generated sequence (bytes of the
    cache tensors and the allocator's growth), the peak during generation, the memory outside
    PyTorch's allocator (CUDA context, cuBLAS), and the time to first token and decode speed of
    transformers' generate() (to check the predictor).
Writes one JSON document (--out) with every figure and the relative errors (hwscope / other - 1).
No downloads: the machine may have no network. --measured FILE recomputes the errors of new
plans against a saved run without torch.

Run (on a GPU machine, plans made beforehand with `hwscope plan DIR --dtype bf16 --gpus
"1x H100 SXM 80GB" --ctx 768 --prompt 512 --json`, int4_bare_bytes added from --dtype int4-bare):
  plan_vs_accelerate.py --configs configs --plans plans --gpu-models Llama-3.2-1B,Qwen2.5-7B \
      --out plan_vs_accelerate.json
"""
import argparse
import datetime
import json
import os
import sys
import time


def accelerate_sizes(cfg):
    import torch
    from accelerate import init_empty_weights
    from accelerate.utils import compute_module_sizes
    from transformers import AutoModelForCausalLM

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(cfg)
    params = sum(p.numel() for p in model.parameters())
    bf16 = compute_module_sizes(model, dtype=torch.bfloat16)[""]
    fp32 = compute_module_sizes(model, dtype=torch.float32)[""]
    return {"params": params, "bf16_bytes": bf16, "fp32_bytes": fp32}


def cache_bytes(past):
    """Bytes of every tensor a transformers KV cache holds, whatever its class."""
    total = 0
    layers = getattr(past, "layers", None)
    if layers is not None:
        for layer in layers:
            for name in ("keys", "values"):
                t = getattr(layer, name, None)
                if t is not None and hasattr(t, "nbytes"):
                    total += t.nbytes
        return total
    if hasattr(past, "key_cache"):
        return sum(t.nbytes for t in list(past.key_cache) + list(past.value_cache))
    for kv in past:
        total += sum(t.nbytes for t in kv)
    return total


def build_on_gpu(cfg):
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("cuda"):
        try:
            return AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
        except TypeError:
            return AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.bfloat16)


def generate(model, ids, new, **kw):
    import torch

    torch.cuda.synchronize()
    t = time.perf_counter()
    out = model.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False,
                         pad_token_id=0, eos_token_id=None, **kw)
    torch.cuda.synchronize()
    return out, time.perf_counter() - t


def measure_gpu(cfg, prompt, gen, timed_gen):
    import torch

    torch.cuda.empty_cache()
    base = torch.cuda.memory_allocated()
    model = build_on_gpu(cfg).eval()
    weights = torch.cuda.memory_allocated() - base
    params = sum(p.numel() for p in model.parameters())
    ids = torch.randint(100, 1000, (1, prompt), device="cuda")
    with torch.no_grad():
        generate(model, ids, 8)  # warm-up: kernels, cuBLAS handles
        _, t_first = generate(model, ids, 1)
        _, t_run = generate(model, ids, timed_gen + 1)
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        out, _ = generate(model, ids, gen, return_dict_in_generate=True)
        peak = torch.cuda.max_memory_allocated() - before
        past = out.past_key_values
        held = torch.cuda.memory_allocated() - before
        seq = past.get_seq_length() if hasattr(past, "get_seq_length") else past[0][0].shape[2]
        kv = cache_bytes(past)
    free, total = torch.cuda.mem_get_info()
    outside = (total - free) - torch.cuda.memory_reserved()
    slack = torch.cuda.memory_reserved() - torch.cuda.memory_allocated()
    result = {
        "params": params, "weights_bytes": weights, "kv_seq_tokens": seq, "kv_bytes": kv,
        "kv_bytes_per_token": kv / seq, "after_generate_held_bytes": held,
        "generate_peak_bytes": peak, "outside_allocator_bytes": outside,
        "allocator_slack_bytes": slack, "ttft_ms": t_first * 1e3,
        "decode_tokens_per_s": timed_gen / (t_run - t_first),
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
    }
    del model, out, past
    torch.cuda.empty_cache()
    return result


def rel(got, want):
    if got is None or want in (None, 0):
        return None
    return got / want - 1.0


def compare(row, plan):
    """Fills row["hwscope"] from a plan document and the errors against what was measured."""
    mem, pred = plan["memory"], plan.get("prediction") or {}
    h = row["hwscope"] = {
        "params": plan["model"]["params"], "weights_bytes": mem["weights_bytes"],
        "kv_bytes_per_token": mem["kv_bytes_per_token"],
        "activation_bytes": mem["activation_bytes"],
        "cuda_context_bytes": mem["cuda_context_bytes"], "runtime_bytes": mem["runtime_bytes"],
        "int4_bare_bytes": plan.get("int4_bare_bytes"), "prediction": pred}
    acc = row["accelerate"]
    # accelerate estimate-memory's int4 column is its float32 size / 8 = params x 0.5 bytes
    acc_int4 = acc["params"] * 0.5 if "params" in acc else None
    row["error_vs_accelerate"] = {
        "params": rel(h["params"], acc.get("params")),
        "bf16_weights": rel(h["weights_bytes"], acc.get("bf16_bytes")),
        "int4_bare": rel(h["int4_bare_bytes"], acc_int4),
    }
    g = row.get("pytorch")
    if not g or "error" in g:
        return
    row["error_vs_pytorch"] = {
        "params": rel(h["params"], g["params"]),
        "weights": rel(h["weights_bytes"], g["weights_bytes"]),
        "kv_per_token": rel(h["kv_bytes_per_token"], g["kv_bytes_per_token"]),
        "kv_held": rel(h["kv_bytes_per_token"] * g["kv_seq_tokens"],
                       g["after_generate_held_bytes"]),
        "generate_peak": rel(h["kv_bytes_per_token"] * g["kv_seq_tokens"] +
                             h["activation_bytes"], g["generate_peak_bytes"]),
        "outside_allocator": rel(h["cuda_context_bytes"], g["outside_allocator_bytes"]),
        "ttft": rel(pred.get("ttft_ms"), g["ttft_ms"]),
        "decode_tokens_per_s": rel(pred.get("decode_tokens_per_s"), g["decode_tokens_per_s"]),
    }


def load_plan(plans, name):
    path = os.path.join(plans, name + ".json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def make_plans(hwscope, configs, plans, ctx, prompt):
    """Runs `hwscope plan` on every config folder (bf16, and int4-bare for the bare figure)."""
    import subprocess

    os.makedirs(plans, exist_ok=True)
    for name in sorted(os.listdir(configs)):
        folder = os.path.join(configs, name)
        if not os.path.isfile(os.path.join(folder, "config.json")):
            continue
        base = [hwscope, "plan", folder, "--gpus", "1x H100 SXM 80GB", "--ctx", str(ctx),
                "--prompt", str(prompt), "--json", "--dtype"]
        plan = json.loads(subprocess.run(base + ["bf16"], check=True, capture_output=True,
                                         text=True).stdout)
        bare = json.loads(subprocess.run(base + ["int4-bare"], check=True, capture_output=True,
                                         text=True).stdout)
        plan["int4_bare_bytes"] = bare["memory"]["weights_bytes"]
        with open(os.path.join(plans, name + ".json"), "w") as f:
            json.dump(plan, f, indent=1)


def recompare(measured, plans, out):
    """Errors of new plans against saved measurements (no GPU, no torch needed)."""
    with open(measured) as f:
        doc = json.load(f)
    for row in doc["models"]:
        plan = load_plan(plans, row["model"])
        if plan is not None:
            compare(row, plan)
    doc["compared_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    return doc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs")
    ap.add_argument("--plans", required=True)
    ap.add_argument("--gpu-models", default="", help="comma-separated folders to load on the GPU")
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--gen", type=int, default=256)
    ap.add_argument("--timed-gen", type=int, default=128)
    ap.add_argument("--measured", help="recompute errors of --plans against this saved file")
    ap.add_argument("--make-plans", metavar="HWSCOPE", help="first write --plans with this binary")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.make_plans:
        make_plans(a.make_plans, a.configs, a.plans, a.prompt + a.gen, a.prompt)
    if a.measured:
        doc = recompare(a.measured, a.plans, a.out)
        for row in doc["models"]:
            print(row["model"], json.dumps(row.get("error_vs_accelerate")),
                  json.dumps(row.get("error_vs_pytorch")))
        return 0

    import torch
    import transformers
    from transformers import AutoConfig

    gpu_models = [m for m in a.gpu_models.split(",") if m]
    doc = {
        "schema": "hwscope.plan_vs_accelerate/1",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__, "transformers": transformers.__version__,
        "prompt_tokens": a.prompt, "gen_tokens": a.gen, "models": [],
    }
    try:
        import accelerate
        doc["accelerate"] = accelerate.__version__
    except ImportError:
        doc["accelerate"] = None
    for name in sorted(os.listdir(a.configs)):
        folder = os.path.join(a.configs, name)
        plan = load_plan(a.plans, name)
        if not os.path.isfile(os.path.join(folder, "config.json")) or plan is None:
            continue
        row = {"model": name}
        cfg = AutoConfig.from_pretrained(folder)
        try:
            row["accelerate"] = accelerate_sizes(cfg)
        except Exception as e:  # an architecture this transformers cannot build
            row["accelerate"] = {"error": repr(e)}
        if name in gpu_models and torch.cuda.is_available():
            try:
                row["pytorch"] = measure_gpu(cfg, a.prompt, a.gen, a.timed_gen)
            except Exception as e:  # keep the other models' figures
                row["pytorch"] = {"error": repr(e)}
        compare(row, plan)
        doc["models"].append(row)
        print(name, json.dumps(row.get("error_vs_accelerate")),
              json.dumps(row.get("error_vs_pytorch")), flush=True)
        with open(a.out, "w") as f:  # after every model: a timeout keeps what was done
            json.dump(doc, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
