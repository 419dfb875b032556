"""The GPU code paths checked end to end with random-weight models of the real shapes.

No internet: each model is built from its configuration (SmolLM2-360M as a Llama, GPT-2,
Pythia-70m and -1b as GPT-NeoX, a DistilBERT SST-2 head) with random weights and a BPE
tokenizer trained here, saved in the dtype its hub checkpoint has, and then loaded by path
exactly as the colab and paper profiles load hub ids. What is checked:

- ``precision``: what a training stage really computes in, seen from inside it
  (:class:`dclm.train.callbacks.StageProbe`): the dtype of its forward passes and the gradient
  scaler on its optimizer agree with the precision chosen for the device (bf16 from compute
  capability 8.0, fp16 with a gradient scaler below, fp32 on a CPU, or ``$DCLM_PRECISION``);
- ``merge_<model>``: LoRA SFT then DPO steps on a half-precision checkpoint; the merged fp32
  model's logits equal the unmerged adapter's, and its weights differ from the base by
  exactly scaling·B@A; seconds per step and peak memory;
- ``left_padding``: a left-padded batch gives each prompt the next-token logits it gets alone;
- ``rloo``: a few RLOO steps with LoRA on the GPT-2 shape, in the chosen precision, dropout off;
- ``generation``: sampling tokens per second at the lengths the profiles generate (chapter 3's
  answers on the SmolLM2 shape, chapter 5's headlines on the GPT-2 shape);
- ``embeddings``: Pythia-shaped encoders in the device's compute dtype, pooled in fp32, agree
  with an fp32 reference; one encoder stays loaded; seconds per 1,000 texts;
- ``sentiment``: the SST-2 head scores in [-1, 1] on the device.

Seconds per step come from :class:`dclm.train.callbacks.StepTimer`: optimizer steps 3..N
only (N = 30 on a GPU), so loading, building the trainer, tokenising and the LoRA merge are
not in them. Peak memory is ``torch.cuda.max_memory_allocated`` and ``max_memory_reserved``
(what the caching allocator holds, which is what runs out) on a GPU, the process's peak RSS on
a CPU. ``--memory-cap-gib 15`` caps the allocator at a T4's memory; with
``DCLM_PRECISION=fp16`` a larger GPU then runs the T4's path.

``run_checks(cpu=True)`` uses the same code with tiny shapes, so CI runs it on every push and
it cannot rot; ``scripts/gpu_check.py`` is its command line: a JSON report and, beside it, a
markdown table.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import resource
import sys
import time
from pathlib import Path

from dclm.train.gpu_report import markdown_table, missing_requirements
from dclm.train.gpu_shapes import build_models, corpus

# Optimizer steps per timed stage. The timer skips the first two, so a GPU reports steps 3..30
# and a CPU steps 3..5: enough to exist, few enough for CI.
GPU_STEPS, CPU_STEPS = 30, 5
# hf.sample_completions' batch: the one the chapters' evaluations generate with.
GENERATION_BATCH = 64
DTYPE_OF = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def _peak_memory_reset(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def _peak_memory_gib(device: str) -> dict[str, float]:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        # Reserved is what the caching allocator holds from the driver: it is what a T4 runs out of.
        return {"peak_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 3),
                "peak_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 3)}
    # The process's peak so far (Linux reports KiB): an upper bound for this check.
    return {"peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)}


def _training_texts(n: int, length: int) -> list[dict]:
    """``n`` prompt/completion records whose answers are as long as ``length`` tokens allow."""
    texts = corpus(n)
    long = " ".join(texts)
    return [{"prompt": t.split("A:")[0] + "A:", "completion": " " + long[i * 7:i * 7 + 6 * length]}
            for i, t in enumerate(texts)]


def _precision_seen(probe_report: dict, chosen: str) -> bool:
    """Whether a stage computed in ``chosen``: its forward dtype, fp32 trained weights, a scaler iff fp16."""
    return bool(probe_report["forward_dtypes"] == [DTYPE_OF[chosen]] and probe_report["trained_dtypes"] == ["float32"]
                and (probe_report["grad_scaler"] is not None) == (chosen == "fp16"))


def check_precision(model_dir: Path, work: Path, device: str) -> dict:
    """The precision chosen for ``device``, and what a short SFT stage really computed in.

    The choice itself (capability rule, ``$DCLM_PRECISION``) is unit-tested with a mocked GPU;
    this checks that the trainer then does it: autocast dtype of the forward passes, an fp16
    gradient scaler on the optimizer exactly when fp16 is chosen, fp32 master weights.
    """
    import torch

    from dclm import env
    from dclm.train.callbacks import StageProbe
    from dclm.train.trainers import TrainSettings, train_sft

    chosen = env.precision(device)
    row: dict = {"precision": chosen}
    if not device.startswith("cuda"):
        row["chosen_by"] = "cpu (always fp32)"
    else:
        major, minor = torch.cuda.get_device_capability()
        row["capability"] = f"{major}.{minor}"
        row["chosen_by"] = f"${env.PRECISION_ENV_VAR}" if env.precision_override() else "compute capability"
    probe = StageProbe()
    settings = TrainSettings(learning_rate=1e-4, batch_size=4, max_length=64, seed=0, max_steps=2, save_steps=10**6,
                             device=device)
    train_sft(model_dir, _training_texts(8, 64), settings, work / "precision", callbacks=[probe])
    row.update(probe.report())
    row["ok"] = _precision_seen(row, chosen)
    return row


def merge_fidelity(base: Path, final: Path, device: str) -> dict:
    """How far the merged checkpoint is from the unmerged base + adapter (logits, weights)."""
    import torch

    from dclm.train.hf import load_causal_lm, load_lora, lora_deltas
    from dclm.train.trainers import ADAPTER

    unmerged = load_lora(base, final / ADAPTER, device=device)
    merged = load_causal_lm(final, device=device)
    ids = torch.arange(3, 35, device=device).unsqueeze(0)
    with torch.no_grad():
        a, b = merged(input_ids=ids).logits, unmerged(input_ids=ids).logits
    logits_err = float((a - b).abs().max())
    logits_scale = float(b.abs().max())
    deltas = lora_deltas(unmerged)
    base_weights = {n: w.detach() for n, w in load_causal_lm(base, device=device).named_parameters()}
    merged_weights = {n: w.detach() for n, w in merged.named_parameters()}
    weight_err = max(float((merged_weights[n] - base_weights[n] - d.to(device)).abs().max()) for n, d in deltas.items())
    delta_scale = max(float(d.abs().max()) for d in deltas.values())
    return {"saved_dtype": str(next(merged.parameters()).dtype).replace("torch.", ""),
            "logits_max_abs_err": logits_err, "weight_max_abs_err": weight_err, "delta_max_abs": delta_scale,
            "ok": bool(delta_scale > 0 and weight_err <= 1e-6 + 1e-3 * delta_scale
                       and logits_err <= 1e-4 * max(1.0, logits_scale))}


def check_merge(name: str, base: Path, work: Path, device: str, cpu: bool, save_dtype: str = "float32") -> dict:
    """LoRA SFT then DPO on ``base`` (a half-precision checkpoint): merge fidelity and speed."""
    from dclm.train.callbacks import StepTimer
    from dclm.train.trainers import TrainSettings, train_dpo, train_sft

    steps, batch, length = (CPU_STEPS, 4, 32) if cpu else (GPU_STEPS, 8, 512)
    settings = TrainSettings(learning_rate=1e-4, batch_size=batch, max_length=length, seed=0, max_steps=steps,
                             save_steps=10**6, lora_rank=16, device=device, gradient_checkpointing=not cpu,
                             save_dtype=save_dtype)
    records = _training_texts(batch * steps * 2, length)
    pairs = [{"prompt": r["prompt"], "chosen": r["completion"], "rejected": r["completion"][::-1]} for r in records]
    row: dict = {"steps": steps, "batch_size": batch, "max_length": length}
    stages = {"sft": (train_sft, records, base), "dpo": (train_dpo, pairs, work / "sft" / "final")}
    for stage, (train, data, start_from) in stages.items():
        _peak_memory_reset(device)
        timer = StepTimer()
        start = time.perf_counter()
        # DPO at half the SFT rank, as in the re-run (16 then 8).
        final = train(start_from, data, settings if stage == "sft" else dataclasses.replace(settings, lora_rank=8),
                      work / stage, callbacks=[timer])
        wall = time.perf_counter() - start
        # wall_s includes loading, building the trainer and the merge; s_per_step does not.
        row[stage] = {"wall_s": round(wall, 2), **timer.summary(), **_peak_memory_gib(device),
                      **merge_fidelity(start_from, final, device)}
    row["ok"] = all(row[stage]["ok"] for stage in stages)
    return row


def check_left_padding(model_dir: Path, device: str) -> dict:
    """Next-token logits of each prompt in a left-padded batch equal those of the prompt alone."""
    import torch

    from dclm.train.hf import load_causal_lm, load_tokenizer

    tokenizer = load_tokenizer(model_dir, padding_side="left")
    model = load_causal_lm(model_dir, device=device)
    prompts = ["Q: thesis?\nA:", "Q: how do I write to my advisor about a late draft of my thesis chapter?\nA:"]
    with torch.no_grad():
        batch = tokenizer(prompts, return_tensors="pt", padding=True).to(device)
        together = model(**batch).logits[:, -1]
        alone = torch.cat([model(**tokenizer([p], return_tensors="pt").to(device)).logits[:, -1] for p in prompts])
        generated = model.generate(**batch, do_sample=False, max_new_tokens=8, pad_token_id=tokenizer.pad_token_id)
    err = float((together - alone).abs().max())
    return {"padding_side": tokenizer.padding_side, "logits_max_abs_err": err,
            "padded_rows": int((batch["attention_mask"] == 0).any(1).sum()),
            "generated_tokens": int(generated.shape[1] - batch["input_ids"].shape[1]),
            "ok": bool(tokenizer.padding_side == "left" and err <= 1e-3 * max(1.0, float(alone.abs().max())))}


def check_rloo(model_dir: Path, work: Path, device: str, cpu: bool) -> dict:
    """RLOO steps with LoRA: their speed, and the precision and dropout they really ran with."""
    from dclm import env
    from dclm.train.callbacks import StageProbe, StepTimer
    from dclm.train.trainers import TrainSettings, train_rloo

    steps, generations = (CPU_STEPS, 4) if cpu else (GPU_STEPS, 4)
    settings = TrainSettings(learning_rate=2e-5, batch_size=16, max_length=32, seed=0, max_steps=steps,
                             save_steps=10**6, lora_rank=16, device=device)
    probe, timer = StageProbe(), StepTimer()
    _peak_memory_reset(device)
    start = time.perf_counter()
    final = train_rloo(model_dir, ["Headline:"] * (steps * settings.batch_size),
                       lambda texts: [len(t) / 40 for t in texts], settings, work / "rloo",
                       num_generations=generations, max_completion_length=16, callbacks=[probe, timer])
    wall = time.perf_counter() - start
    seen = probe.report()
    # GPT-2 has dropout 0.1: a policy with it on is scored against a reference without noise.
    return {"steps": steps, "wall_s": round(wall, 2), **timer.summary(), **seen, **_peak_memory_gib(device),
            "ok": bool((final / "config.json").exists() and _precision_seen(seen, env.precision(device))
                       and seen["max_dropout"] == 0.0)}


def generation_lengths(cpu: bool) -> list[tuple[str, str, int]]:
    """``(shape, what generates it, new tokens)`` for each length the profiles sample.

    From the chapters' configs, not copied here: chapter 3's ``max_new_tokens`` (answers, on the
    SmolLM2 policy) and chapter 5's ``max_completion_length`` (headlines; the colab profile's
    GPT-2, and the GPT-2 shape stands in for the paper profile's Pythia-160m). The tiny profile's
    lengths on a CPU, the colab and paper profiles' on a GPU.
    """
    from dclm.experiments import deconfound, monday
    from dclm.profiles import get_profile

    rows = []
    for name in ("tiny",) if cpu else ("colab", "paper"):
        profile = get_profile(name)
        rows.append(("smollm2-360m", f"{name} chapter 3 answers", monday.config_for(profile, 0).max_new_tokens))
        rows.append(("gpt2", f"{name} chapter 5 headlines", deconfound.config_for(profile, 0).max_completion_length))
    return rows


def check_generation(model_dirs: dict[str, Path], device: str, cpu: bool) -> dict:
    """Sampled tokens per second at the profiles' lengths, batch 64, weights in fp32 as evaluated."""
    import torch

    from dclm.train.hf import load_causal_lm, load_tokenizer, quiet

    prompts = [t.split("A:")[0] + "A:" for t in corpus(GENERATION_BATCH, seed=2)]
    row: dict = {"batch_size": GENERATION_BATCH, "runs": []}
    for shape, use, new_tokens in generation_lengths(cpu):
        tokenizer = load_tokenizer(model_dirs[shape], padding_side="left")
        model = load_causal_lm(model_dirs[shape], device=device)
        batch = tokenizer(prompts, return_tensors="pt", padding=True).to(device)
        # min_new_tokens: every row is as long as the chapter's, however early a random model says EOS.
        sample = dict(do_sample=True, temperature=1.0, top_k=0, top_p=1.0, pad_token_id=tokenizer.pad_token_id)
        with torch.no_grad(), quiet():
            model.generate(**batch, max_new_tokens=2, **sample)  # kernels and allocator warm, not timed
            _peak_memory_reset(device)
            start = time.perf_counter()
            out = model.generate(**batch, max_new_tokens=new_tokens, min_new_tokens=new_tokens, **sample)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            wall = time.perf_counter() - start
        generated = int(out.shape[1] - batch["input_ids"].shape[1]) * out.shape[0]
        row["runs"].append({"model": shape, "use": use, "new_tokens": new_tokens, "wall_s": round(wall, 3),
                            "tokens_per_s": round(generated / wall, 1), **_peak_memory_gib(device)})
        del model
    row["ok"] = bool(row["runs"] and all(r["tokens_per_s"] > 0 for r in row["runs"]))
    return row


def check_embeddings(model_dirs: dict[str, Path], device: str, cpu: bool) -> dict:
    """Pythia-shaped encoders in the compute dtype, pooled in fp32, against an fp32 reference."""
    import numpy as np

    from dclm import env
    from dclm.models import embed
    from dclm.train.hf import plain_embed_loop

    texts = [t.replace("\n", " ") for t in corpus(64 if cpu else 2_000, seed=1)]
    row: dict = {"compute_dtype": env.compute_dtype(device), "texts": len(texts)}
    ok = True
    for name, folder in model_dirs.items():
        _peak_memory_reset(device)
        start = time.perf_counter()
        vectors = embed.embed_texts(texts, model_id=str(folder), device=device, use_cache=False, show_progress=False)
        wall = time.perf_counter() - start
        reference = plain_embed_loop(texts[:16], folder)
        cosine = (vectors[:16] * reference).sum(1) / (np.linalg.norm(vectors[:16], axis=1)
                                                     * np.linalg.norm(reference, axis=1))
        finite = bool(np.isfinite(vectors).all())
        row[name] = {"s_per_1000_texts": round(1000 * wall / len(texts), 3), "min_cosine_vs_fp32": float(cosine.min()),
                     "finite": finite, **_peak_memory_gib(device)}
        ok = ok and finite and float(cosine.min()) > 0.99
    row["encoders_loaded"] = len(embed.loaded_encoders())
    row["ok"] = bool(ok and row["encoders_loaded"] == 1)
    return row


def check_sentiment(model_dir: Path, device: str) -> dict:
    """The SST-2 head's P(pos) - P(neg) on this device: finite and within [-1, 1]."""
    import numpy as np

    from dclm.models.sentiment import sentiment

    scores = sentiment(["a wonderful win for the home team", "a terrible loss"] * 16, str(model_dir), device=device)
    return {"n": len(scores), "ok": bool(np.isfinite(scores).all() and np.abs(scores).max() <= 1.0)}


def apply_memory_cap(cap_gib: float | None, device: str) -> dict:
    """Cap this process's CUDA caching allocator at ``cap_gib`` (e.g. 15: a T4); a note on a CPU."""
    if cap_gib is None:
        return {}
    if cap_gib <= 0:
        raise ValueError(f"memory cap must be > 0 GiB, got {cap_gib}")
    if not device.startswith("cuda"):
        return {"cap_gib": cap_gib, "applied": False, "note": "no-op on the CPU: only CUDA memory can be capped"}
    import torch

    total_gib = torch.cuda.get_device_properties(0).total_memory / 2**30
    fraction = min(1.0, cap_gib / total_gib)
    torch.cuda.set_per_process_memory_fraction(fraction, 0)
    return {"cap_gib": cap_gib, "applied": True, "fraction": round(fraction, 4), "device_gib": round(total_gib, 2),
            "note": "caps PyTorch's allocator only; the CUDA context (a few hundred MiB) comes on top, as on a T4"
            + ("" if fraction < 1.0 else "; the cap is not below this GPU's memory, so nothing is capped")}


def run_checks(work: Path, cpu: bool, memory_cap_gib: float | None = None) -> dict:
    """Every check; ``cpu`` uses tiny shapes on the CPU, else the real shapes on ``cuda``."""
    import torch

    from dclm import env

    started = time.perf_counter()
    device = "cpu" if cpu else "cuda"
    if not cpu and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device; run with --cpu for the tiny-shape check")
    cap = apply_memory_cap(memory_cap_gib, device)
    models = build_models(work / "models", cpu)
    checks = {"precision": check_precision(models["pythia-70m"], work / "train-precision", device)}
    for name in ("smollm2-360m", "pythia-70m"):
        checks[f"merge_{name}"] = check_merge(name, models[name], work / f"train-{name}", device, cpu)
    checks["left_padding"] = check_left_padding(models["smollm2-360m"], device)
    checks["rloo"] = check_rloo(models["gpt2"], work / "train-gpt2", device, cpu)
    checks["generation"] = check_generation(models, device, cpu)
    checks["embeddings"] = check_embeddings({n: models[n] for n in ("pythia-70m", "pythia-1b")}, device, cpu)
    checks["sentiment"] = check_sentiment(models["distilbert-sst2"], device)
    gpus = env.gpus()
    return {"shapes": "tiny" if cpu else "real", "device": device, "gpu": gpus[0] if gpus else None,
            "precision": env.precision(device), "precision_override": env.precision_override(),
            "memory_cap": cap, "python": platform.python_version(), "versions": env.versions(), "checks": checks,
            "ok": all(c["ok"] for c in checks.values()), "wall_s": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu", action="store_true", help="tiny shapes on the CPU (what CI runs)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the JSON report here too, and a markdown table beside it (.md)")
    parser.add_argument("--memory-cap-gib", type=float, default=None,
                        help="cap PyTorch's CUDA memory at this many GiB (15: a T4); a no-op on the CPU")
    args = parser.parse_args(argv)
    missing = missing_requirements(args.cpu)
    if missing:
        for item in missing:
            print(f"gpu_check: missing {item}", file=sys.stderr)
        return 2
    if args.memory_cap_gib is not None and args.memory_cap_gib <= 0:
        print(f"gpu_check: --memory-cap-gib must be > 0, got {args.memory_cap_gib}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="dclm-gpu-check-") as tmp:
        report = run_checks(Path(tmp), args.cpu, args.memory_cap_gib)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        args.out.with_suffix(".md").write_text(markdown_table(report))
    failed = [name for name, check in report["checks"].items() if not check["ok"]]
    if failed:
        print(f"gpu_check: FAILED: {', '.join(failed)}", file=sys.stderr)
    return 0 if not failed else 1
