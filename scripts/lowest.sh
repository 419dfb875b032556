#!/usr/bin/env bash
# `make lowest`: the declared floors are true. Installs requirements/lowest.txt (every floor
# pinned) with dclm[train,causal,embed] into a fresh Python 3.11 venv, then runs chapters 1-2,
# a two-step chapter-3 training and the GPU-path check on tiny shapes, with a run cache of
# its own (results computed with the lock's versions must not stand in for these).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=_build/lowest/venv
rm -rf _build/lowest
python3 -m venv "$venv"
"$venv/bin/pip" install -q -r requirements/lowest.txt -e ".[train,causal,embed]" nbclient ipykernel jupytext
"$venv/bin/pip" check
"$venv/bin/python" -c "import dclm.env, json; print(json.dumps(dclm.env.versions()))"
export DCLM_RUN_CACHE="$PWD/_build/lowest/runs" DCLM_EMBED_CACHE="$PWD/_build/lowest/embeddings" \
       DCLM_PROFILE=tiny MPLBACKEND=Agg HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TQDM_DISABLE=1 PATH="$PWD/$venv/bin:$PATH"
"$venv/bin/python" scripts/run_chapters.py book/01-confounding.md book/02-instrumental-variables.md
"$venv/bin/python" -m dclm run monday --profile tiny --out _build/lowest/monday \
  --set n_questions=300 --set sft_questions=60 --set eval_questions=20 --set training_seeds=1 \
  --set batch_size=8 --set sft_epochs=0.1 --set dpo_steps=2 --set save_steps=2 --set samples_per_prompt=2 \
  > _build/lowest/monday.log
grep -q '"n_runs": 1' _build/lowest/monday.log
"$venv/bin/python" scripts/gpu_check.py --cpu --out _build/lowest/gpu-check.json > /dev/null
echo "lowest versions: chapters 1-2, a two-step chapter-3 training and gpu_check --cpu passed"
