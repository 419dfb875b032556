"""The GPU code paths checked end to end with random-weight models of the real shapes.

No internet: each model is built from its configuration (SmolLM2-360M as a Llama, GPT-2,
Pythia-70m and -1b as GPT-NeoX, a DistilBERT SST-2 head) with random weights and a BPE
tokenizer trained here, saved in the dtype its hub checkpoint has, and then loaded by path
exactly as the colab and paper profiles load hub ids. What is checked:

- ``precision``: the mixed precision chosen for the device (bf16 from compute capability 8.0,
  fp16 with a gradient scaler below, fp32 on a CPU) and that one AMP step runs in it;
- ``merge_<model>``: LoRA SFT then DPO steps on a half-precision checkpoint; the merged fp32
  model's logits equal the unmerged adapter's, and its weights differ from the base by
  exactly scaling·B@A; seconds per step and peak memory;
- ``left_padding``: a left-padded batch gives each prompt the next-token logits it gets alone;
- ``rloo``: the RLOO configuration on the device (precision, optimiser, batch divisible by the
  generations) and a few RLOO steps with LoRA on the GPT-2 shape;
- ``embeddings``: Pythia-shaped encoders in the device's compute dtype, pooled in fp32, agree
  with an fp32 reference; one encoder stays loaded; seconds per 1,000 texts;
- ``sentiment``: the SST-2 head scores in [-1, 1] on the device.

``run_checks(cpu=True)`` uses the same code with tiny shapes, so CI runs it on every push and
it cannot rot; ``scripts/gpu_check.py`` is its command line.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import resource
import sys
import time
from pathlib import Path

WORDS = ("advisor thesis paper review deadline email professor question answer plan draft "
         "committee funding student conference journal method result data chapter").split()
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")

# name: (architecture, configuration of the real model, dtype of its hub checkpoint)
SHAPES = {
    "smollm2-360m": ("llama", dict(hidden_size=960, intermediate_size=2560, num_hidden_layers=32,
                                   num_attention_heads=15, num_key_value_heads=5, max_position_embeddings=2048,
                                   vocab_size=49152, tie_word_embeddings=True), "bfloat16"),
    "gpt2": ("gpt2", dict(n_embd=768, n_layer=12, n_head=12, n_positions=1024, vocab_size=50257), "float32"),
    "pythia-70m": ("gpt_neox", dict(hidden_size=512, num_hidden_layers=6, num_attention_heads=8,
                                    intermediate_size=2048, vocab_size=50304, rotary_pct=0.25,
                                    max_position_embeddings=2048), "float16"),
    "pythia-1b": ("gpt_neox", dict(hidden_size=2048, num_hidden_layers=16, num_attention_heads=8,
                                   intermediate_size=8192, vocab_size=50304, rotary_pct=0.25,
                                   max_position_embeddings=2048), "float16"),
    "distilbert-sst2": ("distilbert", dict(dim=768, n_layers=6, n_heads=12, hidden_dim=3072, vocab_size=30522,
                                           max_position_embeddings=512), "float32"),
}
# The same architectures, small enough for a CPU in seconds (vocab = the tokenizer's).
TINY = {
    "smollm2-360m": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=True),
    "gpt2": dict(n_embd=32, n_layer=2, n_head=4, n_positions=256),
    "pythia-70m": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                       rotary_pct=0.25, max_position_embeddings=256),
    "pythia-1b": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                      rotary_pct=0.25, max_position_embeddings=256),
    "distilbert-sst2": dict(dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=256),
}


def _corpus(n: int, seed: int = 0) -> list[str]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return [f"Q: {' '.join(rng.choice(WORDS, 6))}?\nA: Happy {DAYS[i % 5]}! {' '.join(rng.choice(WORDS, 30))}."
            for i in range(n)]


def build_models(root: Path, cpu: bool, seed: int = 0) -> dict[str, Path]:
    """Every shape saved under ``root/<name>`` (weights in the hub dtype, plus the tokenizer)."""
    import torch
    from transformers import (
        AutoModelForCausalLM,
        AutoModelForSequenceClassification,
        DistilBertConfig,
        GPT2Config,
        GPTNeoXConfig,
        LlamaConfig,
    )

    from dclm.train.hf import quiet, train_tokenizer

    classes = {"llama": LlamaConfig, "gpt2": GPT2Config, "gpt_neox": GPTNeoXConfig, "distilbert": DistilBertConfig}
    folders = {}
    with quiet():
        tokenizer = train_tokenizer(_corpus(400, seed), 300 if cpu else 2_000, root / "tokenizer")
        ids = {"pad_token_id": tokenizer.pad_token_id, "eos_token_id": tokenizer.eos_token_id,
               "bos_token_id": tokenizer.eos_token_id}
        for name, (arch, shape, dtype) in SHAPES.items():
            shape = {**shape, **TINY[name], "vocab_size": len(tokenizer)} if cpu else shape
            torch.manual_seed(seed)
            folder = root / name
            if arch == "distilbert":
                config = classes[arch](**shape, num_labels=2, id2label={0: "NEGATIVE", 1: "POSITIVE"},
                                       label2id={"NEGATIVE": 0, "POSITIVE": 1}, pad_token_id=tokenizer.pad_token_id)
                model = AutoModelForSequenceClassification.from_config(config)
            else:
                model = AutoModelForCausalLM.from_config(classes[arch](**shape, **ids))
            model.to(getattr(torch, dtype)).save_pretrained(str(folder))
            tokenizer.save_pretrained(str(folder))
            folders[name] = folder
            del model
    return folders


def _peak_memory_reset(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def _peak_memory_gib(device: str) -> dict[str, float]:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        return {"peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 3)}
    # The process's peak so far (Linux reports KiB): an upper bound for this check.
    return {"peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)}


def check_precision(device: str) -> dict:
    """The chosen mixed precision, and one forward/backward/step of a linear layer in it."""
    import torch

    from dclm import env

    chosen = env.precision(device)
    row: dict = {"precision": chosen}
    if device.startswith("cuda"):
        major, minor = torch.cuda.get_device_capability()
        row["capability"] = f"{major}.{minor}"
        expected = "bf16" if major >= 8 else "fp16"
    else:
        expected = "fp32"
    layer = torch.nn.Linear(64, 64).to(device)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[chosen]
    scaler = torch.amp.GradScaler(device.split(":")[0], enabled=chosen == "fp16")
    before = layer.weight.detach().clone()
    with torch.autocast(device.split(":")[0], dtype=dtype, enabled=chosen != "fp32"):
        loss = layer(torch.randn(8, 64, device=device)).float().pow(2).mean()
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    row["master_weights"] = str(layer.weight.dtype).replace("torch.", "")
    row["ok"] = bool(chosen == expected and layer.weight.dtype == torch.float32
                     and not torch.equal(before, layer.weight.detach()))
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
    from dclm.train.hf import load_causal_lm
    from dclm.train.trainers import TrainSettings, train_dpo, train_sft

    steps, batch, length = (2, 4, 32) if cpu else (10, 8, 512)
    settings = TrainSettings(learning_rate=1e-4, batch_size=batch, max_length=length, seed=0, max_steps=steps,
                             save_steps=10**6, lora_rank=16, device=device, gradient_checkpointing=not cpu,
                             save_dtype=save_dtype)
    texts = _corpus(batch * steps * 2)
    long = " ".join(texts)  # answers as long as max_length allows
    records = [{"prompt": t.split("A:")[0] + "A:", "completion": " " + long[i * 7:i * 7 + 6 * length]}
               for i, t in enumerate(texts)]
    pairs = [{"prompt": r["prompt"], "chosen": r["completion"], "rejected": r["completion"][::-1]} for r in records]
    start = time.perf_counter()
    load_causal_lm(base)
    load_s = time.perf_counter() - start
    row: dict = {"steps": steps, "batch_size": batch, "max_length": length}
    stages = {"sft": (train_sft, records, base), "dpo": (train_dpo, pairs, work / "sft" / "final")}
    for stage, (train, data, start_from) in stages.items():
        _peak_memory_reset(device)
        start = time.perf_counter()
        # DPO at half the SFT rank, as in the re-run (16 then 8).
        final = train(start_from, data, settings if stage == "sft" else dataclasses.replace(settings, lora_rank=8),
                      work / stage)
        wall = time.perf_counter() - start
        # Includes building the trainer (seconds on any device): an upper bound per step.
        row[stage] = {"wall_s": round(wall, 2), "s_per_step_incl_setup": round(max(wall - load_s, 0.0) / steps, 4),
                      **_peak_memory_gib(device), **merge_fidelity(start_from, final, device)}
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
    """The RLOO configuration on this device, then a few RLOO steps with LoRA."""
    from dclm import env
    from dclm.train.trainers import TrainSettings, train_rloo, trainer_arguments

    steps, generations = (2, 4) if cpu else (5, 4)
    settings = TrainSettings(learning_rate=2e-5, batch_size=16, max_length=32, seed=0, max_steps=steps,
                             save_steps=10**6, lora_rank=16, device=device)
    args = trainer_arguments(settings, work / "rloo")
    mixed = env.precision(device)
    _peak_memory_reset(device)
    start = time.perf_counter()
    final = train_rloo(model_dir, ["Headline:"] * (steps * settings.batch_size),
                       lambda texts: [len(t) / 40 for t in texts], settings, work / "rloo",
                       num_generations=generations, max_completion_length=16)
    wall = time.perf_counter() - start
    return {"bf16": args["bf16"], "fp16": args["fp16"], "optim": args["optim"],
            "gradient_checkpointing": args["gradient_checkpointing"], "steps": steps,
            "wall_s": round(wall, 2), "s_per_step_incl_setup": round(wall / steps, 3), **_peak_memory_gib(device),
            "ok": bool((final / "config.json").exists() and args["bf16"] == (mixed == "bf16")
                       and args["fp16"] == (mixed == "fp16") and settings.batch_size % generations == 0)}


def check_embeddings(model_dirs: dict[str, Path], device: str, cpu: bool) -> dict:
    """Pythia-shaped encoders in the compute dtype, pooled in fp32, against an fp32 reference."""
    import numpy as np

    from dclm import env
    from dclm.models import embed
    from dclm.train.hf import plain_embed_loop

    texts = [t.replace("\n", " ") for t in _corpus(64 if cpu else 2_000, seed=1)]
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


def run_checks(work: Path, cpu: bool) -> dict:
    """Every check; ``cpu`` uses tiny shapes on the CPU, else the real shapes on ``cuda``."""
    import torch

    from dclm import env

    started = time.perf_counter()
    device = "cpu" if cpu else "cuda"
    if not cpu and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device; run with --cpu for the tiny-shape check")
    models = build_models(work / "models", cpu)
    checks = {"precision": check_precision(device)}
    for name in ("smollm2-360m", "pythia-70m"):
        checks[f"merge_{name}"] = check_merge(name, models[name], work / f"train-{name}", device, cpu)
    checks["left_padding"] = check_left_padding(models["smollm2-360m"], device)
    checks["rloo"] = check_rloo(models["gpt2"], work / "train-gpt2", device, cpu)
    checks["embeddings"] = check_embeddings({n: models[n] for n in ("pythia-70m", "pythia-1b")}, device, cpu)
    checks["sentiment"] = check_sentiment(models["distilbert-sst2"], device)
    gpus = env.gpus()
    return {"shapes": "tiny" if cpu else "real", "device": device, "gpu": gpus[0] if gpus else None,
            "python": platform.python_version(), "versions": env.versions(), "checks": checks,
            "ok": all(c["ok"] for c in checks.values()), "wall_s": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu", action="store_true", help="tiny shapes on the CPU (what CI runs)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON report here too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dclm-gpu-check-") as tmp:
        report = run_checks(Path(tmp), args.cpu)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    failed = [name for name, check in report["checks"].items() if not check["ok"]]
    if failed:
        print(f"gpu_check: FAILED: {', '.join(failed)}", file=sys.stderr)
    return 0 if not failed else 1
