#!/usr/bin/env python3
"""llm_check.py - the LLM engine against Hugging Face transformers on tiny random-weight models.

For each family (Llama 3 with llama3 RoPE scaling and GQA, Qwen2 with q/k/v biases and tied
embeddings, Mistral with a sliding window shorter than the sequence) it makes a model with
transformers, saves it as bf16 safetensors, runs `llm_driver check` on the CPU and CUDA backends
(prefill of a prompt, then 32 greedy steps) and compares:
  - logits: hwscope's at the prompt's last token and at every greedy step against transformers
    (fp32 compute over the same bf16 weights, eager attention, fed hwscope's own token sequence)
    as max |diff| / max |logit|; tolerance CPU 1e-3 (fp32 activations), CUDA 3e-2 (bf16
    activations and KV cache);
  - tokens: hwscope's 32 greedy tokens against transformers' generate(do_sample=False), counted
    exactly; and, because bf16 activations may flip a near-tie, whether each hwscope token is
    transformers' argmax on hwscope's own sequence up to the logit tolerance ("greedy up to
    ties"). CPU (fp32) must give the exact tokens; CUDA must be greedy up to ties.
  - on a CPU with AMX, prefills of 32 rows and more take the AMX bf16 tiles (x rounded to bf16,
    as on CUDA): those CPU rows are judged as CUDA bf16 (5e-2, greedy up to ties).
  - bf16 rows are also held to transformers' own bf16: the same model run by transformers in bf16
    (CUDA where present) on hwscope's token sequence, against the fp32 reference, gives the
    error bf16 itself makes on this model; the tolerance of a dense model's bf16 row is the
    larger of its fixed one and 1.5 times that. Beside it, how many of transformers' own bf16
    greedy tokens (generate) equal its fp32 ones.
  - routed models (mixtral) are judged up to routing ties: bf16 may flip a near tie between the
    k-th and (k+1)-th expert, and the flipped token's logits then move by ~0.3. The driver prints
    the experts hwscope chose in every layer at every position; the reference is the fp32 model
    forced onto that routing. Where hwscope's experts differ from the ones the fp32 router picks
    there, the fp32 logits of the experts swapped must be a near tie (apart by less than 4 times
    the most bf16 moves a router logit by: transformers' bf16 on the same routing); the logits
    must be within the row's fixed tolerance, and "greedy up to ties" is counted on them.
  - mistral_wide: the mistral model with a window longer than the run (a diagnostic row: the
    same kernels with the window never cutting).
Usage: llm_check.py DRIVER OUT_DIR [--devices cpu,cuda] [--formats bf16,fp16] [--families a,b]
Writes OUT_DIR/llm_check.md and .json.
"""
import contextlib
import json
import os
import subprocess
import sys

import torch
import transformers

PROMPT = [3, 17, 250, 9, 77, 120, 5, 300, 41, 8, 199, 64, 2, 333, 90, 11, 150, 27, 401, 6]
STEPS = 32
# (device, format, batch): tolerance on max |diff| / max |logit|. bf16 keeps 8 significant bits
# (unit roundoff 2^-8): the activations, the KV cache and the attention probabilities are
# rounded to it several times per layer, and 5e-2 bounds what that gives on these models (the
# CUDA kernels of 2026-12-06 before and after a rewrite land within 1e-2 to 3.1e-2); fp16
# (11 bits) gets 1e-2, the CPU's float activations 1e-3. Batch 8 runs row 0 of 8 different
# sequences decoded together (the batched kernels).
RUNS = {("cpu", "bf16", 1): 1e-3, ("cpu", "bf16", 4): 1e-3, ("cuda", "bf16", 1): 5e-2,
        ("cuda", "fp16", 1): 1e-2, ("cuda", "bf16", 8): 5e-2, ("cuda", "fp16", 8): 1e-2}


def tiny_configs():
    # head_dim 128 (llama, mistral) and 64 (qwen2): the head sizes the CUDA kernels specialise
    common = dict(hidden_size=512, intermediate_size=1024, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, vocab_size=512,
                  max_position_embeddings=256)
    narrow = dict(common, hidden_size=256, intermediate_size=512)
    return {
        "llama": transformers.LlamaConfig(
            **common, rope_theta=500000.0, tie_word_embeddings=False,
            rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                          "high_freq_factor": 4.0, "original_max_position_embeddings": 32}),
        "qwen2": transformers.Qwen2Config(**narrow, rope_theta=1000000.0,
                                          tie_word_embeddings=True, use_sliding_window=False),
        "mistral": transformers.MistralConfig(**common, rope_theta=10000.0, sliding_window=16,
                                              tie_word_embeddings=False),
        "mistral_wide": transformers.MistralConfig(**common, rope_theta=10000.0,
                                                   sliding_window=128, tie_word_embeddings=False),
        # d_model 4096: the 16-bit products of rows that long split over a block's warps
        "llama_4k": transformers.LlamaConfig(**dict(common, hidden_size=4096, num_attention_heads=32,
                                                    num_key_value_heads=8),
                                             rope_theta=500000.0, tie_word_embeddings=False),
        "mixtral": transformers.MixtralConfig(**common, rope_theta=1000000.0,
                                              tie_word_embeddings=False, num_local_experts=4,
                                              num_experts_per_tok=2),
    }


def make_model(family, cfg, root):
    torch.manual_seed(1234)
    cfg._attn_implementation = "eager"
    model = transformers.AutoModelForCausalLM.from_config(cfg)
    with torch.no_grad():  # larger weights than the default init, so logits spread out
        for name, p in model.named_parameters():
            if p.dim() == 2:  # the same spread of products on the wide model
                p.normal_(0.0, 0.08 * min(1.0, (512 / cfg.hidden_size) ** 0.5))
            elif "norm" in name:
                p.normal_(1.0, 0.1)
            else:  # biases
                p.normal_(0.0, 0.05)
    path = os.path.join(root, family)
    model.to(torch.bfloat16).save_pretrained(path, safe_serialization=True)
    ref = transformers.AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32,
                                                            attn_implementation="eager")
    ref.eval()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    ref16 = transformers.AutoModelForCausalLM.from_pretrained(
        path, torch_dtype=torch.bfloat16, attn_implementation="eager").to(dev)
    ref16.eval()
    return path, ref, ref16


def hf_logits(ref, tokens):
    with torch.no_grad():
        return ref(torch.tensor([tokens], device=ref.device)).logits[0].float().cpu()


def run_driver(driver, path, device, fmt, batch, prompt):
    cmd = [driver, "check", path, "-d", device, "-f", fmt, "-n", str(STEPS), "-b", str(batch),
           "-T", ",".join(map(str, prompt))]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def hwscope_logits(out):
    """hwscope's tokens and the logits transformers can check: ours[i] predicts position
    len(prompt) + i; the last step's logits follow a token transformers was not fed"""
    toks = [s["token"] for s in out["steps"]]
    ours = torch.tensor([out["prefill_logits"]] + [s["logits"] for s in out["steps"][:-1]])
    return toks, ours


def rel_diff(lg, r):
    return (lg - r).abs().max().item() / r.abs().max().item()


def judge(ours, toks, ref_logits, start):
    """The max rel. logit diff of ours against ref_logits[start:] and how many of hwscope's
    tokens are transformers' argmax up to it"""
    worst, ties_ok = 0.0, 0
    for i, lg in enumerate(ours):
        r = ref_logits[start + i]
        scale = r.abs().max().item()
        diff = rel_diff(lg, r)
        worst = max(worst, diff)
        # toks[i] is hwscope's argmax of ours[i]: is it transformers' argmax up to the tolerance?
        ties_ok += int(r.max().item() - r[toks[i]].item() <= 2 * diff * scale + 1e-6 * scale)
    return worst, ties_ok


def compare(ref, ref16, out, prompt):
    toks, ours = hwscope_logits(out)
    seq, start = prompt + toks, len(prompt) - 1
    ref_logits, ref16_logits = hf_logits(ref, seq), hf_logits(ref16, seq)
    worst, ties_ok = judge(ours, toks, ref_logits, start)
    peer16 = max(rel_diff(ref16_logits[start + i], ref_logits[start + i])
                 for i in range(len(ours)))
    gen = ref.generate(torch.tensor([prompt]), max_new_tokens=STEPS, do_sample=False,
                       min_new_tokens=STEPS)[0, len(prompt):].tolist()
    # transformers' own bf16 greedy run against its fp32 one: what bf16 itself keeps
    gen16 = ref16.generate(torch.tensor([prompt], device=ref16.device), max_new_tokens=STEPS,
                           do_sample=False, min_new_tokens=STEPS)[0, len(prompt):].tolist()
    peer16_same = sum(a == b for a, b in zip(gen16, gen))
    # hwscope's step s feeds token s; the token chosen from prefill logits is toks[0]
    return worst, toks, gen, ties_ok, len(ours), peer16, peer16_same


# a bf16 row of a dense model may be this much further from fp32 than transformers' bf16
PEER_BF16_MARGIN = 1.5

# A near tie: experts whose fp32 router logits are less than this many times the most
# transformers' bf16 moves a router logit by apart. hwscope's bf16 rounding is not transformers' but
# of the same size: a flip it makes must be at a gap of the order of what bf16 perturbs the router
# by.
TIE_MARGIN = 4


class Routing:
    """Forward hooks on the routers of a MoE model: while active, they record each layer's router
    logits and force the experts of the (layer, position) cells in force; a no-op otherwise
    (generate, the plain comparison). Batch 1: row n of a router's output is position n."""

    def __init__(self, model):
        self.capture, self.force = None, {}
        for l, layer in enumerate(model.model.layers):
            gate = getattr(getattr(layer, "mlp", None), "gate", None)
            if gate is None:
                raise RuntimeError(f"transformers {transformers.__version__}: no router at "
                                   f"model.layers[{l}].mlp.gate")
            gate.register_forward_hook(self.hook(l))

    def hook(self, layer):
        def forward_hook(module, args, output):
            if self.capture is None:
                return None
            if not (isinstance(output, tuple) and len(output) == 3):
                raise RuntimeError(f"transformers {transformers.__version__}: layer {layer}'s "
                                   "router does not return (logits, scores, indices)")
            logits, scores, indices = output
            self.capture[layer] = logits.float().cpu().clone()
            cells = {p: experts for (l, p), experts in self.force.items() if l == layer}
            if not cells:
                return None
            # the forced experts weighted as the router weights its own: softmax over all the
            # experts, renormalised over the chosen ones
            probs = torch.softmax(logits.float(), dim=-1)
            scores, indices = scores.clone(), indices.clone()
            for p, experts in cells.items():
                idx = torch.tensor(experts, dtype=indices.dtype, device=indices.device)
                w = probs[p, idx]
                indices[p], scores[p] = idx, (w / w.sum()).to(scores.dtype)
            return logits, scores, indices
        return forward_hook

    @contextlib.contextmanager
    def active(self, force):
        self.capture, self.force = {}, force
        try:
            yield self.capture
        finally:
            self.capture, self.force = None, {}


def routed_forward(model, routing, seq, force=None):
    """transformers' logits on seq with the experts forced at the cells of force, and the router
    logits of each layer"""
    with routing.active(force or {}) as capture:
        return hf_logits(model, seq), capture


def recorded_routes(out, n_prompt):
    """hwscope's experts by (layer, position), from the driver's check output"""
    if "prefill_routes" not in out:
        raise RuntimeError("the driver printed no routes for a routed model")
    routes = {}
    for i, layers in enumerate(out["prefill_routes"]):
        for l, experts in enumerate(layers):
            routes[(l, out["prefill_routes_from"] + i)] = experts
    for step, rec in enumerate(out["steps"]):
        for l, experts in enumerate(rec["routes"]):
            routes[(l, n_prompt + step)] = experts
    return routes


def routed_compare(ref, ref16, routers, out, prompt):
    """hwscope against the fp32 reference forced onto hwscope's routing, and where that routing
    differs from what the fp32 router picks (on the same upstream routing) how far from a tie it
    is: the largest fp32 logit of an expert hwscope dropped minus the smallest of one it took.
    Returns the row's fields (flips_at_ties: whether every flip is a near tie) and greedy up to
    ties on that reference."""
    routing, routing16 = routers
    toks, ours = hwscope_logits(out)
    seq, start, k = prompt + toks, len(prompt) - 1, ref.config.num_experts_per_tok
    force = recorded_routes(out, len(prompt))
    ref_logits, logits32 = routed_forward(ref, routing, seq, force)
    # transformers' bf16 on the same routing: what the rounding moves the router logits by,
    # without the far larger move of the flips it would make itself
    _, logits16 = routed_forward(ref16, routing16, seq, force)
    delta = max((logits16[l] - lg).abs().max().item() for l, lg in logits32.items())
    flips = []
    for (l, p), experts in sorted(force.items(), key=lambda c: (c[0][1], c[0][0])):
        lg = logits32[l][p]
        top = lg.argsort(descending=True)[:k].tolist()
        if set(top) != set(experts):
            gap = (max(lg[e] for e in top if e not in experts) -
                   min(lg[e] for e in experts if e not in top)).item()
            flips.append((l, p, gap))
    worst, ties_ok = judge(ours, toks, ref_logits, start)
    at_ties = all(gap < TIE_MARGIN * delta for _, _, gap in flips)
    return dict(routed_rel_logit_diff=worst, routing_flips=[list(t) for t in flips],
                router_bf16_perturbation=delta, flips_at_ties=at_ties), ties_ok


# The quantised formats: the CUDA kernels against the CPU backend on the same quantised weights
# (both quantise the file's bf16 weights with the same group scales), over the steps before
# their greedy tokens first differ. Tolerance as bf16 above.
QUANT_RUNS = [("int8", 1), ("int4", 1), ("int8", 8), ("int4", 8)]
QUANT_TOL = 5e-2


def compare_quant(cpu, cuda):
    worst, agree = 0.0, 0
    pairs = [(cpu["prefill_logits"], cuda["prefill_logits"])]
    for a, b in zip(cpu["steps"], cuda["steps"]):
        if a["token"] != b["token"]:
            break
        agree += 1
        pairs.append((a["logits"], b["logits"]))
    for a, b in pairs:
        a, b = torch.tensor(a), torch.tensor(b)
        worst = max(worst, (a - b).abs().max().item() / a.abs().max().item())
    return worst, agree


def check_quant(driver, family, path, rows):
    ok = True
    for fmt, batch in QUANT_RUNS:
        row = dict(family=family, device="cuda vs cpu", format=fmt, batch=batch,
                   prompt=len(PROMPT))
        try:
            cpu = run_driver(driver, path, "cpu", fmt, 1, PROMPT)
            cuda = run_driver(driver, path, "cuda", fmt, batch, PROMPT)
            worst, agree = compare_quant(cpu, cuda)
            row.update(max_rel_logit_diff=worst, tolerance=QUANT_TOL, same_tokens=agree,
                       steps=STEPS, greedy_up_to_ties=agree, checked_steps=STEPS,
                       passed=worst <= QUANT_TOL)
        except Exception as e:  # noqa: BLE001 - reported in the table
            row.update(error=str(e), passed=False)
        rows.append(row)
        ok = ok and row["passed"]
    return ok


AMX_ROWS = 32  # the CPU engine's AMX prefill products take this many rows and more


def host_has_amx():
    try:
        with open("/proc/cpuinfo") as f:
            return " amx_bf16" in f.read()
    except OSError:
        return False


def routed_cell(r):
    if "routed_rel_logit_diff" not in r:
        return "-"
    flips = r["routing_flips"]
    bound = TIE_MARGIN * r["router_bf16_perturbation"]
    if not flips:
        return f"{r['routed_rel_logit_diff']:.2e} (no flip)"
    widest = max(gap for _, _, gap in flips)
    return (f"{r['routed_rel_logit_diff']:.2e} ({len(flips)} flip{'s' if len(flips) > 1 else ''}"
            f" at gaps <= {widest:.1e}, ties < {bound:.1e})")


def main():
    driver, out_dir = sys.argv[1], sys.argv[2]
    devices, formats, families = ["cpu", "cuda"], ["bf16", "fp16"], None
    for flag, value in zip(sys.argv[3::2], sys.argv[4::2]):
        if flag == "--devices":
            devices = value.split(",")
        elif flag == "--formats":
            formats = value.split(",")
        elif flag == "--families":
            families = value.split(",")
    # short: decode-sized rows, the window crossed in decode; tiles: more than one 64-row tile of
    # the prefill attention kernel, the window crossing tile edges
    prompts = {"long": PROMPT, "short": PROMPT[:5],
               "tiles": [(i * 37 + 11) % 512 for i in range(100)]}
    os.makedirs(out_dir, exist_ok=True)
    root = "/tmp/llm_check_models"  # not under OUT_DIR: only the tables come back
    rows, ok = [], True
    amx = host_has_amx()
    for family, cfg in tiny_configs().items():
        if families and family not in families:
            continue
        path, ref, ref16 = make_model(family, cfg, root)
        moe = getattr(cfg, "num_local_experts", None)
        routers = (Routing(ref), Routing(ref16)) if moe else None
        for (dev, fmt, batch), tol in RUNS.items():
            for pname, prompt in prompts.items():
                if dev not in devices or fmt not in formats or (
                        pname == "short" and not family.startswith("mistral")) or (
                        batch > 1 and pname != "long"):
                    continue
                row = dict(family=family, device=dev, format=fmt, batch=batch,
                           prompt=len(prompt))
                bf16_cpu = dev == "cpu" and amx and len(prompt) >= AMX_ROWS
                tol_row = RUNS[("cuda", "bf16", 1)] if bf16_cpu else tol
                try:
                    out = run_driver(driver, path, dev, fmt, batch, prompt)
                    worst, toks, gen, ties_ok, checked, peer16, peer16_same = compare(
                        ref, ref16, out, prompt)
                    judged, routed = worst, {}
                    if routers:  # up to routing ties, on the fixed tolerance
                        routed, ties_ok = routed_compare(ref, ref16, routers, out, prompt)
                        judged = (routed["routed_rel_logit_diff"] if routed["flips_at_ties"]
                                  else float("inf"))
                    elif fmt == "bf16" and (dev == "cuda" or bf16_cpu):
                        tol_row = max(tol_row, PEER_BF16_MARGIN * peer16)
                    same = sum(a == b for a, b in zip(toks, gen))
                    greedy = toks == gen if dev == "cpu" and not bf16_cpu else ties_ok == checked
                    row.update(max_rel_logit_diff=worst, tolerance=tol_row, same_tokens=same,
                               steps=STEPS, greedy_up_to_ties=ties_ok, checked_steps=checked,
                               transformers_bf16_rel_diff=peer16,
                               transformers_bf16_same_tokens=peer16_same,
                               passed=judged <= tol_row and greedy,
                               hwscope_tokens=toks, transformers_tokens=gen, **routed)
                except Exception as e:  # noqa: BLE001 - reported in the table
                    row.update(error=str(e), passed=False)
                rows.append(row)
                ok = ok and row["passed"]
        if "cuda" in devices and "cpu" in devices and family in ("llama", "qwen2"):
            ok = check_quant(driver, family, path, rows) and ok
    with open(os.path.join(out_dir, "llm_check.json"), "w") as f:
        json.dump(dict(torch=torch.__version__, transformers=transformers.__version__,
                       gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                       rows=rows), f, indent=1)
    lines = ["| family | device | format | batch | prompt | max rel. logit diff | "
             "up to routing ties | tolerance | same greedy tokens | greedy up to ties | "
             "transformers bf16 rel. diff | transformers bf16 same greedy tokens | pass |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['family']} | {r['device']} | {r['format']} | {r['batch']} | "
                         f"{r['prompt']} | error: {r['error'][:200]} | | | | | | | no |")
        else:
            lines.append(f"| {r['family']} | {r['device']} | {r['format']} | {r['batch']} | "
                         f"{r['prompt']} | {r['max_rel_logit_diff']:.2e} | {routed_cell(r)} | "
                         f"{r['tolerance']:.0e} | {r['same_tokens']}/{r['steps']} | "
                         f"{r['greedy_up_to_ties']}/{r['checked_steps']} | "
                         + (f"{r['transformers_bf16_rel_diff']:.2e} | "
                            f"{r['transformers_bf16_same_tokens']}/{r['steps']} | "
                            if "transformers_bf16_rel_diff" in r else "- | - | ") +
                         f"{'yes' if r['passed'] else 'no'} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "llm_check.md"), "w") as f:
        f.write(text)
    print(text)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
