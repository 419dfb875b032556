"""The model shapes the GPU check builds: each real model's configuration, and the same
architectures small enough for a CPU (:func:`build_models` saves either with random weights)."""

from __future__ import annotations

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


def corpus(n: int, seed: int = 0) -> list[str]:
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
        tokenizer = train_tokenizer(corpus(400, seed), 300 if cpu else 2_000, root / "tokenizer")
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
