#!/usr/bin/env python3
"""llm_vs_peers.py - `hwscope bench llm` beside Hugging Face transformers and llama.cpp's llama-bench
on the same model shapes, and `hwscope plan --runtime X` beside each: the error table.

Two steps, so the GPU machine only measures:
  measure  (on the GPU machine, no downloads) writes one JSON document (--out) with every sample:
           - transformers: the model built from config.json shapes with random bf16 weights on the
             GPU; prefill = one forward of the prompt (use_cache), TTFT = generate(1 token),
             decode = (generate(1 + N) - generate(1)) / N, for the default (dynamic) cache
             ("eager") and cache_implementation="static" (compile disabled: eager kernels);
           - llama.cpp: llama-bench -p P -n N -ngl 99 -o json on random Llama-shaped GGUF files
             (make_random_gguf.py, F16; llama-quantize makes Q8_0 and Q4_K_M from it);
           - hwscope: hwscope bench llm DIR -p P -n N -o json (bf16, int8, int4).
  compare  (anywhere) runs `hwscope plan DIR --runtime R --json` for each measured row and prints
           the error table (markdown): predicted, measured, error per runtime, shape, format, phase;
           with --refit, plan fits the hwscope and transformers runtimes on the in-sample runs only.
  save     (on the machine, or anywhere for it) writes the transformers rows into hwscope's
           ceilings file as runs ("runtime": "transformers"), so `plan --runtime transformers`
           there predicts from this machine's host costs instead of the built-in constants.

The shapes are written as config.json folders (--configs), so every tool reads the same shape.
IN_SAMPLE shapes are the ones runtime constants are fitted on; the others are out of sample.

Example (GPU machine):
  llm_vs_peers.py measure --out peers.json --peers transformers --shapes in,out
  llm_vs_peers.py measure --out all.json --peers hwscope,transformers,llamacpp \
      --hwscope .dev/llmhost/hwscope --llamacpp .dev/llmhost/llamacpp/bin
Example (here):
  llm_vs_peers.py compare --measured peers.json --hwscope build/src/hwscope \
      --ceilings bench/results/bench-h100-20261125-final/ceilings.json --table errors.md
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

# name: (model_type, hidden, ffn, layers, heads, kv_heads, head_dim, vocab, tied, extra)
LLAMA3_ROPE = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
SHAPES = {
    "Llama-3.2-1B": ("llama", 2048, 8192, 16, 32, 8, 64, 128256, True,
                     {"rope_theta": 500000.0, "rope_scaling": LLAMA3_ROPE}),
    "Llama-3.1-8B": ("llama", 4096, 14336, 32, 32, 8, 128, 128256, False,
                     {"rope_theta": 500000.0, "rope_scaling": LLAMA3_ROPE}),
    "Qwen2.5-7B": ("qwen2", 3584, 18944, 28, 28, 4, 128, 152064, False,
                   {"rope_theta": 1000000.0}),
    "Mistral-7B-v0.1": ("mistral", 4096, 14336, 32, 32, 8, 128, 32000, False,
                        {"rope_theta": 10000.0, "sliding_window": 4096}),
    # out of sample
    "Llama-3.2-3B": ("llama", 3072, 8192, 28, 24, 8, 128, 128256, True,
                     {"rope_theta": 500000.0, "rope_scaling": LLAMA3_ROPE}),
    "Qwen2.5-1.5B": ("qwen2", 1536, 8960, 28, 12, 2, 128, 151936, True,
                     {"rope_theta": 1000000.0}),
    "Llama-2-7B": ("llama", 4096, 11008, 32, 32, 32, 128, 32000, False, {"rope_theta": 10000.0}),
    "Qwen2.5-14B": ("qwen2", 5120, 13824, 48, 40, 8, 128, 152064, False,
                    {"rope_theta": 1000000.0}),
    "Qwen2.5-3B": ("qwen2", 2048, 11008, 36, 16, 2, 128, 151936, True,
                   {"rope_theta": 1000000.0}),
    # a smoke test of the script itself (CPU, seconds)
    "tiny": ("llama", 64, 128, 2, 4, 2, 16, 256, False, {"rope_theta": 10000.0}),
}
IN_SAMPLE = ["Llama-3.2-1B", "Llama-3.1-8B", "Qwen2.5-7B", "Mistral-7B-v0.1"]
OUT_OF_SAMPLE = ["Llama-3.2-3B", "Qwen2.5-1.5B", "Llama-2-7B", "Qwen2.5-3B", "Qwen2.5-14B"]
ARCH = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM",
        "mistral": "MistralForCausalLM"}


def config_dict(name):
    mt, h, f, l, nh, nkv, hd, v, tied, extra = SHAPES[name]
    d = {"model_type": mt, "architectures": [ARCH[mt]], "hidden_size": h,
         "intermediate_size": f, "num_hidden_layers": l, "num_attention_heads": nh,
         "num_key_value_heads": nkv, "head_dim": hd, "vocab_size": v,
         "tie_word_embeddings": tied, "max_position_embeddings": 32768, "rms_norm_eps": 1e-5,
         "hidden_act": "silu", "torch_dtype": "bfloat16", "bos_token_id": 1, "eos_token_id": 2}
    d.update(extra)
    return d


def write_configs(folder, names):
    """One folder with a config.json per shape; returns {name: folder}."""
    out = {}
    for name in names:
        d = os.path.join(folder, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config_dict(name), f, indent=1)
        out[name] = d
    return out


def pick_shapes(spec):
    names = []
    for part in spec.split(","):
        names += IN_SAMPLE if part == "in" else OUT_OF_SAMPLE if part == "out" else [part]
    for n in names:
        if n not in SHAPES:
            sys.exit("llm_vs_peers: unknown shape '%s' (%s)" % (n, ", ".join(SHAPES)))
    return names


def stats(samples):
    return {"samples": samples, "mean": statistics.fmean(samples),
            "stddev": statistics.stdev(samples) if len(samples) > 1 else 0.0}


# ---- transformers ------------------------------------------------------------------------------

def tf_generate(model, ids, new, kw):
    import torch

    torch.cuda.synchronize()
    t = time.perf_counter()
    model.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False,
                   pad_token_id=0, eos_token_id=None, **kw)
    torch.cuda.synchronize()
    return time.perf_counter() - t


def tf_prefill(model, ids, reps):
    """tokens/s of one forward over ids (use_cache), after a warm-up forward."""
    import torch

    model(ids, use_cache=True)  # warm-up: kernels, cuBLAS handles
    pp = []
    for _ in range(reps):
        torch.cuda.synchronize()
        t = time.perf_counter()
        model(ids, use_cache=True)
        torch.cuda.synchronize()
        pp.append(ids.shape[1] / (time.perf_counter() - t))
    return stats(pp)


def measure_transformers(name, prompt, gen, reps, extra_prompts=()):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    d = config_dict(name)
    cfg = AutoConfig.for_model(d.pop("model_type"), **d)
    torch.cuda.empty_cache()
    with torch.device("cuda"):
        try:
            model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).eval()
        except TypeError:  # transformers before 4.56 names it torch_dtype
            model = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.bfloat16).eval()
    ids = torch.randint(100, 1000, (1, prompt), device="cuda")
    row = {"shape": name, "runtime": "transformers", "format": "bf16", "prompt": prompt,
           "gen": gen, "attn_implementation": getattr(model.config, "_attn_implementation", None)}
    with torch.inference_mode():
        row["prefill_tokens_per_s"] = tf_prefill(model, ids, reps)
        # shorter prompts: the host's cost per block shows where the GPU has little to do
        row["prefill_by_prompt"] = {str(n): tf_prefill(model, ids[:, :n], reps)
                                    for n in extra_prompts if 0 < n < prompt}
        for variant, kw in (("eager", {}), ("static", {"cache_implementation": "static",
                                                       "disable_compile": True})):
            try:
                tf_generate(model, ids, 4, kw)  # warm-up (the static cache is allocated here)
                ttft, tg = [], []
                for _ in range(max(3, reps)):  # the first is left out by compare (warm-up)
                    t1 = tf_generate(model, ids, 1, kw)
                    tn = tf_generate(model, ids, gen + 1, kw)
                    ttft.append(t1 * 1e3)
                    tg.append(gen / (tn - t1))
                row[variant] = {"ttft_ms": stats(ttft), "decode_tokens_per_s": stats(tg)}
            except Exception as e:  # a variant this transformers cannot run is recorded
                row[variant] = {"error": "%s: %s" % (type(e).__name__, e)}
    del model
    torch.cuda.empty_cache()
    return row


# ---- llama.cpp ---------------------------------------------------------------------------------

def bench_llm_speeds(doc, row):
    """Each record of a `hwscope bench llm -o json` document into row's prefill or decode
    tokens/s (samples, mean, stddev); returns the (phase, record) pairs."""
    pairs = []
    for rec in doc.get("records", []):
        phase = "prefill" if rec.get("test", "").startswith("pp") else "decode"
        row[phase + "_tokens_per_s"] = {"samples": rec.get("samples_tokens_per_s"),
                                        "mean": rec.get("tokens_per_s"),
                                        "stddev": rec.get("stddev")}
        pairs.append((phase, rec))
    return pairs


# hwscope's format nearest to each llama.cpp file type (bits per weight: F16 16, Q8_0 8.5 vs
# int8 8.5, Q4_K_M ~4.9 vs int4 4.5)
GGUF_FLAGS = {"F16": ["--dtype", "fp16"], "Q8_0": ["--quant", "int8"],
              "Q4_K_M": ["--quant", "int4"]}


def measure_hwscope_gguf(name, path, hwscope, q, prompt, gen, reps, load, cpu=False):
    """hwscope bench llm on the GGUF file llama-bench ran (its shape; --load: its weights)."""
    cmd = [hwscope, "bench", "llm", path, "-p", str(prompt), "-n", str(gen), "-r", str(reps),
           "-o", "json", "--no-save"] + GGUF_FLAGS[q] + (["--load"] if load else []) + \
        (["--device", "cpu"] if cpu else [])
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    row = {"shape": name, "runtime": "hwscope", "file": os.path.basename(path), "format": q,
           "hwscope_format": GGUF_FLAGS[q][1], "loaded_weights": load, "cpu": cpu,
           "prompt": prompt, "gen": gen, "wall_s": time.perf_counter() - t}
    if out.returncode != 0:
        row["error"] = "exit %d: %s" % (out.returncode, out.stderr[-2000:])
        return row
    bench_llm_speeds(json.loads(out.stdout), row)
    return row


def measure_llamacpp(name, bindir, tools, work, quants, prompt, gen, reps, hwscope=None,
                     load=(), cpu_threads=0):
    """llama-bench on a random GGUF of the shape (F16, then each quantised type), on the GPU, or
    with cpu_threads > 0 on the CPU alone (-ngl 0 -t cpu_threads; hwscope --device cpu)."""
    mt, h, f, l, nh, nkv, hd, v, tied, extra = SHAPES[name]
    env = dict(os.environ, LD_LIBRARY_PATH=bindir + ":" + os.environ.get("LD_LIBRARY_PATH", ""))
    f16 = os.path.join(work, name + "-F16.gguf")
    t = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(tools, "make_random_gguf.py"), f16, str(h),
                    str(f), str(l), str(nh), str(nkv), str(v), os.path.join(tools, "gguf-py")],
                   check=True, capture_output=True)
    rows = []
    for q in quants:
        path = f16
        if q != "F16":
            path = os.path.join(work, "%s-%s.gguf" % (name, q))
            subprocess.run([os.path.join(bindir, "llama-quantize"), f16, path, q], check=True,
                           capture_output=True, env=env)
        dev = ["-ngl", "0", "-t", str(cpu_threads)] if cpu_threads else ["-ngl", "99"]
        out = subprocess.run([os.path.join(bindir, "llama-bench"), "-m", path, "-p", str(prompt),
                              "-n", str(gen), "-r", str(reps), "-o", "json"] + dev,
                             capture_output=True, text=True, env=env)
        row = {"shape": name, "runtime": "llama.cpp", "format": q, "prompt": prompt, "gen": gen,
               "file_bytes": os.path.getsize(path), "cpu_threads": cpu_threads}
        if out.returncode != 0:
            row["error"] = out.stderr[-2000:]
        else:
            for rec in json.loads(out.stdout):
                samples = rec.get("samples_ts") or [rec.get("avg_ts")]
                key = "prefill_tokens_per_s" if rec.get("n_prompt", 0) > 0 else \
                    "decode_tokens_per_s"
                row[key] = stats(samples)
                row["build_commit"] = rec.get("build_commit")
                row["gpu_info"] = rec.get("gpu_info")
        rows.append(row)
        print(json.dumps({k: row.get(k) for k in ("format", "prefill_tokens_per_s",
                                                  "decode_tokens_per_s", "error")})[:600],
              flush=True)
        if hwscope:  # the same file, side by side
            for ld in (False, True) if q in load else (False,):
                rows.append(measure_hwscope_gguf(name, path, hwscope, q, prompt, gen, reps, ld,
                                                 cpu_threads > 0))
                print(json.dumps({k: rows[-1].get(k) for k in (
                    "format", "loaded_weights", "prefill_tokens_per_s", "decode_tokens_per_s",
                    "error", "wall_s")})[:600], flush=True)
        if path != f16:
            os.unlink(path)
    rows[0]["gguf_setup_s"] = time.perf_counter() - t
    return rows


# ---- hwscope -----------------------------------------------------------------------------------

def measure_hwscope(name, folder, hwscope, formats, prompt, gen, reps, save, extra):
    """bench llm rows of one shape; in-sample shapes are saved (so `plan --runtime hwscope`
    predicts from them), the others are not, and their rows carry the prediction made from the
    saved ones: the out-of-sample error."""
    rows = []
    for fmt in formats:
        flag = ["--dtype", fmt] if fmt in ("bf16", "fp16") else ["--quant", fmt]
        cmd = [hwscope, "bench", "llm", folder, "-p", str(prompt), "-n", str(gen), "-r",
               str(reps), "-o", "json"] + flag + ([] if save else ["--no-save"]) + extra
        t = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True)
        row = {"shape": name, "runtime": "hwscope", "format": fmt, "prompt": prompt, "gen": gen,
               "saved": save, "wall_s": time.perf_counter() - t, "stderr": out.stderr[-1000:]}
        if out.returncode != 0:
            row["error"] = "exit %d: %s" % (out.returncode, out.stderr[-2000:])
        else:
            doc = json.loads(out.stdout)
            row["document"] = doc
            for phase, rec in bench_llm_speeds(doc, row):
                row.setdefault("predicted", {})[phase] = rec.get("predicted_tokens_per_s")
                row.setdefault("prediction_basis", {})[phase] = rec.get("prediction_basis")
        print(json.dumps({k: row.get(k) for k in ("shape", "format", "prefill_tokens_per_s",
                                                  "decode_tokens_per_s", "predicted", "error",
                                                  "wall_s")}), flush=True)
        rows.append(row)
    return rows


def cpu_model():
    """The host CPU's model name and logical CPU count: eager PyTorch is host-bound, so where a
    transformers figure was measured is the CPU as much as the GPU."""
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        return "%s (%d logical CPUs)" % (names[0], len(names)) if names else None
    except OSError:
        return None


def environment():
    env = {"time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "cpu": cpu_model()}
    try:
        import torch
        import transformers

        env.update(torch=torch.__version__, transformers=transformers.__version__,
                   gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    except ImportError as e:
        env["torch"] = "not importable: %s" % e
    return env


def cmd_measure(a):
    names = pick_shapes(a.shapes)
    folders = write_configs(a.configs, names)
    doc = {"schema": "hwscope.llm_vs_peers/1", "environment": environment(), "rows": []}
    peers = a.peers.split(",")

    def save():
        with open(a.out, "w") as f:
            json.dump(doc, f, indent=1)

    # one peer after the other over every shape, hwscope first: its in-sample shapes are saved
    # before the out-of-sample ones are predicted, and what a time limit cuts is the rest
    for peer in ("hwscope", "transformers", "llamacpp"):
        for name in names if peer in peers else []:
            if peer == "hwscope":
                fmts = a.formats.split(",") if name in a.format_shapes.split(",") else ["bf16"]
                doc["rows"] += measure_hwscope(name, folders[name], a.hwscope, fmts, a.prompt,
                                               a.gen, a.reps, name in IN_SAMPLE,
                                               a.hwscope_args.split())
            elif peer == "transformers":
                t = time.perf_counter()
                try:
                    row = measure_transformers(name, a.prompt, a.tf_gen, a.reps,
                                               [int(n) for n in a.tf_prompts.split(",") if n])
                except Exception as e:
                    row = {"shape": name, "runtime": "transformers", "error": repr(e)}
                row["wall_s"] = time.perf_counter() - t
                doc["rows"].append(row)
                print(json.dumps({k: row.get(k) for k in ("shape", "prefill_tokens_per_s",
                                                          "eager", "static", "wall_s")}),
                      flush=True)
            elif name in a.llamacpp_shapes.split(","):
                try:
                    rows = measure_llamacpp(name, a.llamacpp, a.tools, a.work,
                                            a.quants.split(","), a.prompt, a.gen, a.reps,
                                            a.hwscope if a.gguf_hwscope else None,
                                            a.gguf_load.split(","), a.cpu_threads)
                except Exception as e:
                    rows = [{"shape": name, "runtime": "llama.cpp", "error": repr(e)}]
                doc["rows"] += rows
                print(json.dumps(rows)[:2000], flush=True)
            save()
    save()


# ---- compare -----------------------------------------------------------------------------------

PLAN_RUNTIME = {"transformers": "transformers", "llama.cpp": "llama.cpp", "hwscope": "hwscope"}


def plan(hwscope, folder, runtime, fmt, prompt, env, gpus="1x H100 SXM 80GB", extra=()):
    flag = ["--quant", fmt] if runtime == "llama.cpp" else ["--dtype", fmt]
    flag += list(extra)
    cmd = [hwscope, "plan", folder, "--runtime", runtime, "--gpus", gpus,
           "--prompt", str(prompt), "--ctx", str(max(2048, prompt + 256)), "--json"] + flag
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return None, out.stderr.strip()
    return json.loads(out.stdout).get("prediction") or {}, None


def steady(figure):
    """The measured tokens/s: transformers' first timed generate() after a warm-up runs 2-4x
    slower than the rest, so with more than one sample the first is left out (median of the
    rest); llama-bench and hwscope warm up themselves and give a mean."""
    s = figure.get("samples") or []
    if figure.get("drop_first") and len(s) > 1:
        return statistics.median(s[1:])
    return figure["mean"]


def measured_rows(doc):
    """(runtime label, shape, format, phase, measured tokens/s, row) for every figure."""
    for row in doc["rows"]:
        if "error" in row or "file" in row:  # hwscope on llama.cpp's files: the speed table
            continue
        rt = row["runtime"]
        variants = [(rt + " " + v, row[v]) for v in ("eager", "static")
                    if isinstance(row.get(v), dict) and "error" not in row[v]] \
            if rt == "transformers" else [(rt, row)]
        if "prefill_tokens_per_s" in row:
            yield rt, rt, row["shape"], row["format"], "prefill", \
                steady(row["prefill_tokens_per_s"]), row
        for label, v in variants:
            if "decode_tokens_per_s" in v:
                yield rt, label, row["shape"], row["format"], "decode", \
                    steady(dict(v["decode_tokens_per_s"], drop_first=rt == "transformers")), row


def in_sample_ceilings(src, dst, hwscope, configs, measured=None, gpus=None):
    """A copy of the ceilings file at src (an empty one when None) whose saved runs are the
    in-sample shapes' only, and, when the measure document `measured` has transformers rows, the
    in-sample ones saved as `save` does: the fits `plan --runtime hwscope|transformers` make from
    it have never seen the out-of-sample shapes. Runs saved before a field existed get it here:
    layers from SHAPES, and the planner's wave FLOPs (hwscope plan on this GPU) for a prefill."""
    doc = {"schema": "hwscope.ceilings/1", "gpus": []}
    if src:
        with open(src) as f:
            doc = json.load(f)
    folders = write_configs(configs, IN_SAMPLE)
    quiet = dict(os.environ, HWSCOPE_CEILINGS="/nonexistent")  # the planner's own FLOPs
    for gpu in doc.get("gpus", []):
        runs = [r for r in gpu.get("llm", []) if r.get("model") in IN_SAMPLE]
        for r in runs:
            r.setdefault("layers", SHAPES[r["model"]][3])
            if r.get("prefill_tokens_per_s") and r.get("prefill_wave_flops_per_token") is None \
                    and r.get("runtime", "hwscope") == "hwscope":
                pred, _ = plan(hwscope, folders[r["model"]], "hwscope", r["format"],
                               r["prompt_tokens"], quiet, "1x " + gpu["name"])
                r["prefill_wave_flops_per_token"] = (pred or {}).get("prefill_wave_flops_per_token")
        gpu["llm"] = runs
    if measured is not None:
        rows = [r for r in measured["rows"] if r.get("shape") in IN_SAMPLE]
        gpu_name = measured.get("environment", {}).get("gpu") or "NVIDIA H100 80GB HBM3"
        add_runs(doc, gpu_name, transformers_runs(dict(measured, rows=rows), hwscope, configs,
                                                  gpus or "1x " + gpu_name))
    with open(dst, "w") as f:
        json.dump(doc, f, indent=1)


# ---- save: transformers runs beside the ceilings ------------------------------------------------

def transformers_runs(measured, hwscope, configs, gpus):
    """The transformers rows of a measure document as hwscope.ceilings/1 "llm" runs (runtime
    "transformers"): one prefill run per prompt length, one decode run per cache (variant "eager":
    the default dynamic cache, "static"), each with the planner's FLOPs or bytes for it."""
    env = measured.get("environment", {})
    rows = [r for r in measured["rows"] if r.get("runtime") == "transformers" and "error" not in r]
    folders = write_configs(configs, sorted({r["shape"] for r in rows}))
    quiet = dict(os.environ, HWSCOPE_CEILINGS="/nonexistent")  # the planner's own bytes and FLOPs
    runs = []
    for row in rows:
        base = {"runtime": "transformers", "model": row["shape"], "device": "cuda",
                "format": row["format"], "batch": 1, "layers": SHAPES[row["shape"]][3],
                "measured_at": env.get("time_utc", ""), "host": (env.get("cpu") or "")[:63]}
        prefills = [(row["prompt"], row["prefill_tokens_per_s"])] + \
            [(int(n), v) for n, v in row.get("prefill_by_prompt", {}).items()]
        for n, figure in prefills:
            pred, why = plan(hwscope, folders[row["shape"]], "transformers", row["format"], n,
                             quiet, gpus)
            if pred is None:
                sys.exit("llm_vs_peers save: hwscope plan %s: %s" % (row["shape"], why))
            runs.append(dict(base, depth=0, prompt_tokens=n, gen_tokens=0,
                             prefill_tokens_per_s=steady(figure), decode_tokens_per_s=None,
                             prefill_flops_per_token=pred.get("prefill_flops_per_token")))
        pred, why = plan(hwscope, folders[row["shape"]], "transformers", row["format"],
                         row["prompt"], quiet, gpus)
        for variant in ("eager", "static"):
            v = row.get(variant)
            if isinstance(v, dict) and "decode_tokens_per_s" in v:
                runs.append(dict(base, variant=variant, depth=row["prompt"], prompt_tokens=0,
                                 gen_tokens=row["gen"], prefill_tokens_per_s=None,
                                 decode_tokens_per_s=steady(dict(v["decode_tokens_per_s"],
                                                                 drop_first=True)),
                                 decode_bytes_per_step=pred.get("decode_bytes_per_step")))
    return runs


def add_runs(doc, gpu_name, runs):
    """runs into the "llm" array of gpu_name's entry of a ceilings document (created with null
    ceilings when new); a run of the same runtime, variant, model, format, batch, depth, prompt
    and gen replaces the saved one, as hwscope bench llm saves its own."""
    key = ("runtime", "variant", "model", "device", "format", "batch", "depth", "prompt_tokens",
           "gen_tokens")
    entry = next((g for g in doc["gpus"] if g.get("name") == gpu_name), None)
    if entry is None:
        entry = {"name": gpu_name}
        doc["gpus"].append(entry)
    saved = entry.setdefault("llm", [])
    for run in runs:
        k = tuple(run.get(f, "hwscope" if f == "runtime" else "") for f in key)
        saved[:] = [r for r in saved
                    if tuple(r.get(f, "hwscope" if f == "runtime" else "") for f in key) != k]
        saved.append(run)


def ceilings_path():
    """Where hwscope keeps its ceilings (hws_ceilings_path): $HWSCOPE_CEILINGS, else
    $XDG_CACHE_HOME/hwscope/ceilings.json, else ~/.cache/hwscope/ceilings.json."""
    if os.environ.get("HWSCOPE_CEILINGS"):
        return os.environ["HWSCOPE_CEILINGS"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "hwscope", "ceilings.json")


def cmd_save(a):
    """The transformers runs of a measure document into the ceilings file, under the lock
    hwscope's own writer takes, replaced at once (temporary file + rename)."""
    import fcntl

    with open(a.measured) as f:
        measured = json.load(f)
    gpu_name = a.gpu or measured.get("environment", {}).get("gpu")
    if not gpu_name:
        sys.exit("llm_vs_peers save: the document names no GPU; give --gpu")
    runs = transformers_runs(measured, a.hwscope, a.configs, a.gpus or "1x " + gpu_name)
    if not runs:
        sys.exit("llm_vs_peers save: no transformers rows in %s" % a.measured)
    path = a.ceilings or ceilings_path()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        doc = {"schema": "hwscope.ceilings/1", "gpus": []}
        if os.path.exists(path):
            with open(path) as f:
                doc = json.load(f)
        if doc.get("schema") != "hwscope.ceilings/1":
            sys.exit("llm_vs_peers save: %s is not a hwscope.ceilings/1 document" % path)
        add_runs(doc, gpu_name, runs)
        with open(path + ".tmp", "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(path + ".tmp", path)
    print("saved %d transformers run(s) of %s to %s" % (len(runs), gpu_name, path))


def cmd_compare(a):
    with open(a.measured) as f:
        doc = json.load(f)
    names = sorted({r["shape"] for r in doc["rows"]})
    folders = write_configs(a.configs, names)
    env = dict(os.environ)
    tf = any(r.get("runtime") == "transformers" for r in doc["rows"])
    if a.refit and (a.ceilings or tf):
        fitted = os.path.join(a.configs, "ceilings-in-sample.json")
        in_sample_ceilings(a.ceilings, fitted, a.hwscope, a.configs, doc if tf else None,
                           a.gpus)
        env["HWSCOPE_CEILINGS"] = fitted
    elif a.ceilings:
        env["HWSCOPE_CEILINGS"] = a.ceilings
    lines = ["| runtime | shape | sample | format | phase | predicted tok/s | measured tok/s | "
             "error |", "|---|---|---|---|---|---:|---:|---:|"]
    errors = {}
    cache = {}
    for rt, label, shape, fmt, phase, meas, row in measured_rows(doc):
        static = label == "transformers static" and phase == "decode"
        key = (rt, shape, fmt, static)
        if key not in cache:  # the static-cache rows against plan --cache static
            cache[key] = plan(a.hwscope, folders[shape], PLAN_RUNTIME[rt], fmt, row["prompt"],
                              env, a.gpus, ["--cache", "static"] if static else [])
        pred, why = cache[key]
        p = pred.get(phase + "_tokens_per_s") if pred else None
        if rt == "hwscope" and not a.refit and (row.get("predicted") or {}).get(phase):
            p = row["predicted"][phase]  # made on the GPU machine from the in-sample runs
        err = p / meas - 1 if p and meas else None
        sample = "in" if shape in IN_SAMPLE else "out"
        errors.setdefault((label, phase, sample), []).append(err)
        lines.append("| %s | %s | %s | %s | %s | %s | %.1f | %s |" % (
            label, shape, sample, fmt, phase, "%.1f" % p if p else "n/a (%s)" % why, meas,
            "%+.1f%%" % (err * 100) if err is not None else "n/a"))
    lines += ["", "| runtime | phase | sample | rows | worst abs error | mean abs error |",
              "|---|---|---|---:|---:|---:|"]
    for (label, phase, sample), errs in sorted(errors.items()):
        e = [abs(x) for x in errs if x is not None]
        if e:
            lines.append("| %s | %s | %s | %d | %.1f%% | %.1f%% |" % (
                label, phase, sample, len(e), max(e) * 100, statistics.fmean(e) * 100))
    # the model behind each runtime's predictions: the basis of its first row
    seen = set()
    for (rt, shape, fmt, static), (pred, _) in cache.items():
        if pred and (rt, static) not in seen:
            seen.add((rt, static))
            lines += ["", "basis (%s%s, %s %s): %s" % (rt, " --cache static" if static else "",
                                                       shape, fmt, pred.get("basis", ""))]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if a.table:
        with open(a.table, "w") as f:
            f.write(text)


# ---- fitcheck -----------------------------------------------------------------------------------

def driver_rows(path):
    """Mean tokens/s per (model, format, phase, batch, depth) of an engine driver log (jsonl of
    model / prefill / decode events, bench/llm_driver.c)."""
    rows, cur = {}, None
    for line in open(path):
        e = json.loads(line)
        if e.get("event") == "model":
            cur = (e["model"], e["format"])
        elif e.get("event") == "prefill" and cur:
            rows.setdefault(cur + ("prefill", 1, 0, e["tokens"]), []).append(e["tokens_per_s"])
        elif e.get("event") == "decode" and cur:
            rows.setdefault(cur + ("decode", e["batch"], e["depth"], e.get("steps", 64)),
                            []).append(e["tokens_per_s"])
    return {k: statistics.fmean(v) for k, v in rows.items()}


def plan_hwscope(hwscope, model, fmt, batch, prompt, ceilings):
    cmd = [hwscope, "plan", model, "--runtime", "hwscope", "--dtype", fmt, "--gpus",
           "1x H100 SXM 80GB", "--batch", str(batch), "--prompt", str(prompt), "--ctx",
           str(prompt + 256), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env=dict(os.environ, HWSCOPE_CEILINGS=ceilings))
    return json.loads(out.stdout)["prediction"]


def cmd_fitcheck(a):
    """Saves the engine's batch-1 depth-0 runs as `bench llm` would and predicts the rest (other
    depths, other batches) with `plan --runtime hwscope`: how far the fit carries."""
    rows = driver_rows(a.jsonl)
    with open(a.ceilings) as f:
        doc = json.load(f)
    train, test = [], []
    for (model, fmt, phase, batch, depth, n), tps in sorted(rows.items()):
        (train if batch == 1 and depth == 0 else test).append((model, fmt, phase, batch, depth,
                                                                n, tps))
    runs = []
    for model, fmt, phase, batch, depth, n, tps in train:
        p = plan_hwscope(a.hwscope, model, fmt, batch, n if phase == "prefill" else 1,
                         a.ceilings)
        runs.append({"model": model, "device": "cuda", "format": fmt, "batch": batch,
                     "depth": depth, "prompt_tokens": n if phase == "prefill" else 0,
                     "gen_tokens": 0 if phase == "prefill" else n,
                     "prefill_tokens_per_s": tps if phase == "prefill" else None,
                     "decode_tokens_per_s": tps if phase == "decode" else None,
                     "decode_bytes_per_step": p["decode_bytes_per_step"]
                     if phase == "decode" else None,
                     "prefill_flops_per_token": p["prefill_flops_per_token"]
                     if phase == "prefill" else None, "measured_at": "from " + a.jsonl})
    doc["gpus"][0]["llm"] = runs
    saved = os.path.join(a.work, "ceilings-fitcheck.json")
    with open(saved, "w") as f:
        json.dump(doc, f, indent=1)
    lines = ["| model | format | phase | batch | depth | fitted on | predicted tok/s | "
             "measured tok/s | error |", "|---|---|---|---:|---:|---|---:|---:|---:|"]
    for model, fmt, phase, batch, depth, n, tps in train + test:
        # decode at depth d: the planner's fill is prompt + gen/2, so prompt = d + n/2 - gen/2
        p = plan_hwscope(a.hwscope, model, fmt, batch, max(depth, 1) if phase == "decode"
                         else n, saved)
        got = p[phase + "_tokens_per_s"]
        lines.append("| %s | %s | %s | %d | %d | %s | %.1f | %.1f | %+.1f%% |" % (
            model, fmt, phase, batch, depth,
            "itself" if (batch == 1 and depth == 0) else "batch 1, depth 0", got, tps,
            (got / tps - 1) * 100))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if a.table:
        with open(a.table, "w") as f:
            f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--out", required=True)
    m.add_argument("--peers", default="hwscope,transformers,llamacpp")
    m.add_argument("--shapes", default="in,out")
    m.add_argument("--configs", default="/tmp/llm_vs_peers/configs")
    m.add_argument("--work", default="/tmp/llm_vs_peers")
    m.add_argument("--hwscope", default="hwscope")
    m.add_argument("--hwscope-args", default="", help="more flags for bench llm")
    m.add_argument("--formats", default="bf16,int8,int4")
    m.add_argument("--format-shapes", default="Llama-3.1-8B",
                   help="shapes run in every --formats; the others in bf16")
    m.add_argument("--llamacpp", default="llamacpp/bin", help="folder of llama-bench")
    m.add_argument("--llamacpp-shapes", default="Llama-3.2-1B,Llama-3.1-8B")
    m.add_argument("--quants", default="F16,Q8_0,Q4_K_M")
    m.add_argument("--gguf-hwscope", action="store_true",
                   help="also run hwscope bench llm on each GGUF file llama-bench ran")
    m.add_argument("--cpu-threads", type=int, default=0,
                   help="llama.cpp and hwscope on the CPU alone with this many threads")
    m.add_argument("--gguf-load", default="",
                   help="file types whose weights hwscope also loads (--load), e.g. Q4_K_M")
    m.add_argument("--tools", default=".", help="folder of make_random_gguf.py and gguf-py/")
    m.add_argument("--prompt", type=int, default=512)
    m.add_argument("--gen", type=int, default=128)
    m.add_argument("--tf-gen", type=int, default=32, help="transformers decode tokens per run")
    m.add_argument("--reps", type=int, default=3)
    m.add_argument("--tf-prompts", default="",
                   help="shorter prompts transformers also prefills, e.g. 64,128")

    def reads_measured(parser, ceilings_help):
        """The flags of the steps that read a measure document and run hwscope plan."""
        parser.add_argument("--measured", required=True)
        parser.add_argument("--hwscope", default="build/hwscope")
        parser.add_argument("--ceilings", help=ceilings_help)
        parser.add_argument("--configs", default="/tmp/llm_vs_peers/configs")

    c = sub.add_parser("compare")
    reads_measured(c, "hwscope.ceilings/1 file the plans use")
    c.add_argument("--table", help="write the markdown table here too")
    c.add_argument("--refit", action="store_true",
                   help="predict the hwscope rows here from the in-sample runs of --ceilings "
                        "(instead of the predictions bench llm made as it went), and the "
                        "transformers rows from the in-sample transformers rows saved as `save` "
                        "does")
    c.add_argument("--gpus", default="1x H100 SXM 80GB", help="the GPU the plans are for")
    s = sub.add_parser("save", help="transformers runs of a measure document into the ceilings "
                                    "file, for plan --runtime transformers on that machine")
    reads_measured(s, "the ceilings file (hwscope's own path when not given)")
    s.add_argument("--gpu", help="the GPU's name (the document's when not given)")
    s.add_argument("--gpus", help="the GPU the planner's FLOPs and bytes are for (--gpu)")
    k = sub.add_parser("fitcheck")
    k.add_argument("--jsonl", required=True, help="the engine driver's log (bench/llm_driver.c)")
    k.add_argument("--hwscope", default="build/hwscope")
    k.add_argument("--ceilings", required=True, help="the measured ceilings of that GPU")
    k.add_argument("--work", default="/tmp")
    k.add_argument("--table")
    a = p.parse_args()
    if a.cmd == "fitcheck":
        cmd_fitcheck(a)
    elif a.cmd == "save":
        cmd_save(a)
    elif a.cmd == "measure":
        os.makedirs(a.work, exist_ok=True)
        cmd_measure(a)
    else:
        cmd_compare(a)


if __name__ == "__main__":
    main()
