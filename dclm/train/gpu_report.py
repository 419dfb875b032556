"""What the GPU check says before and after its work: the preflight (:func:`missing_requirements`)
and the markdown table of a report (:func:`markdown_table`)."""

from __future__ import annotations

import importlib.util
import shutil

# What the preflight looks for on every run; a GPU run also needs torch's CUDA build, a GPU and a C compiler.
REQUIRED_PACKAGES = ("trl", "peft", "datasets", "accelerate")


def _cell(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def markdown_table(report: dict) -> str:
    """One row per check and model: s/step (steps 3..N), tokens/s, peak memory, precision, device."""
    device = report["gpu"]["name"] if report.get("gpu") else report["device"]
    precision = report["precision"]
    header = ("| check | model | s/step (median, steps 3..N) | tokens/s | peak allocated GiB | peak reserved GiB "
              "| peak RSS GiB | precision | device | ok |")
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]

    def add(check: str, model: str, row: dict, ok) -> None:
        steps = row.get("s_per_step")
        timed = f"{_cell(steps)} (n={row['steps_timed']})" if steps is not None else "–"
        lines.append(f"| {check} | {model} | {timed} | {_cell(row.get('tokens_per_s'), 4)} "
                     f"| {_cell(row.get('peak_allocated_gib'))} | {_cell(row.get('peak_reserved_gib'))} "
                     f"| {_cell(row.get('peak_rss_gib'))} | {precision} | {device} | {'yes' if ok else 'NO'} |")

    checks = report["checks"]
    for name, check in checks.items():
        if name.startswith("merge_"):
            for stage in ("sft", "dpo"):
                add(f"{name} {stage}", name.removeprefix("merge_"), check[stage], check[stage]["ok"])
        elif name == "generation":
            for run in check["runs"]:
                add(f"generation {run['new_tokens']} tokens ({run['use']})", run["model"], run, check["ok"])
        elif name == "embeddings":
            for model, run in check.items():
                if isinstance(run, dict):
                    add(f"embeddings ({_cell(run['s_per_1000_texts'])} s/1000 texts)", model, run, check["ok"])
        else:
            add(name, {"precision": "pythia-70m", "rloo": "gpt2", "left_padding": "smollm2-360m",
                       "sentiment": "distilbert-sst2"}.get(name, "–"), check, check["ok"])
    cap = report.get("memory_cap") or {}
    notes = [f"Shapes: {report['shapes']}; precision chosen by: {checks['precision'].get('chosen_by', '–')}."]
    if cap:
        notes.append(f"Memory cap {cap['cap_gib']} GiB: {'applied' if cap['applied'] else 'not applied'} ({cap['note']}).")
    return "\n".join(lines + [""] + notes) + "\n"


def missing_requirements(cpu: bool) -> list[str]:
    """What this machine lacks for the check, one description each; empty when nothing is missing.

    Found without importing them (except torch, for its CUDA build), so a missing package is
    named before minutes of work rather than in a traceback halfway. A C compiler only for a
    GPU run: Triton compiles its GPU kernels with one, and nothing compiles on a CPU run.
    """
    from dclm import env

    missing = []
    if importlib.util.find_spec("torch") is None:
        missing.append("torch (pip install torch)")
    elif not cpu:
        import torch

        if torch.version.cuda is None:
            missing.append(f"a CUDA build of torch (this one is {torch.__version__}); or run with --cpu")
        elif not torch.cuda.is_available():
            missing.append("a visible CUDA device (torch.cuda.is_available() is False); or run with --cpu")
    missing += [f"{name} (pip install {name})" for name in REQUIRED_PACKAGES if importlib.util.find_spec(name) is None]
    if not cpu and not (shutil.which("cc") or shutil.which("gcc")):
        missing.append("a C compiler (cc or gcc), which Triton needs to build GPU kernels")
    try:
        env.precision_override()
    except ValueError as error:
        missing.append(f"a valid precision ({error})")
    return missing
