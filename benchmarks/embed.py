"""Benchmark: embedding the shipped Upworthy packages with MiniLM on CPU, in one process.

    .venv/bin/python benchmarks/embed.py [--limit N] [--json out.json]

Three timings, same process, same model files:

1. the plain loop (``dclm.train.hf.plain_embed_loop``): every package's headline in file order,
   batches of 32, padded to the longest, mean-pooled: what most tutorials write;
2. ``dclm.models.embed.embed_texts`` with an empty cache: deduplicates, sorts by length,
   batches by a token budget, writes the cache;
3. the same call again: everything comes from the cache.

Throughput is counted as *distinct texts embedded per second*, for all three, so the
deduplication a plain loop does not do shows up as a speed-up. The report also gives the
like-for-like compute speed-up (the plain loop run on the distinct texts only) so the two
sources of gain can be told apart. ``--limit`` keeps the first N packages (quick runs).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch

from dclm.data.upworthy import read_packages
from dclm.models import embed
from dclm.train.hf import plain_embed_loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N packages only")
    parser.add_argument("--json", default=None, help="also write the report here")
    args = parser.parse_args()

    headlines = read_packages()["headline"].tolist()[: args.limit]
    distinct = list(dict.fromkeys(headlines))
    model_path = embed.resolve_model(embed.MINILM_ID)
    plain_embed_loop(distinct[:64], model_path)  # load and warm up outside the timings

    start = time.perf_counter()
    plain_all = plain_embed_loop(headlines, model_path)
    plain_all_s = time.perf_counter() - start
    start = time.perf_counter()
    plain_embed_loop(distinct, model_path)
    plain_distinct_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        ours = embed.embed_texts(headlines, cache_dir=cache, show_progress=False)
        ours_s = time.perf_counter() - start
        start = time.perf_counter()
        again = embed.embed_texts(headlines, cache_dir=cache, show_progress=False)
        cached_s = time.perf_counter() - start

    report = {
        "packages": len(headlines), "distinct_texts": len(distinct), "torch_threads": torch.get_num_threads(),
        "plain_loop_all_packages_s": round(plain_all_s, 2),
        "plain_loop_distinct_texts_s": round(plain_distinct_s, 2),
        "embed_texts_cold_s": round(ours_s, 2), "embed_texts_cached_s": round(cached_s, 2),
        "throughput_distinct_per_s": {
            "plain_loop": round(len(distinct) / plain_all_s, 1),
            "embed_texts": round(len(distinct) / ours_s, 1),
        },
        "speedup_end_to_end": round(plain_all_s / ours_s, 2),
        "speedup_like_for_like": round(plain_distinct_s / ours_s, 2),
        "max_abs_diff": float(abs(ours - plain_all).max()),
        "cached_equal": bool((again == ours).all()),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
