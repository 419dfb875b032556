"""A tiny GPT-NeoX (the Pythia architecture) with a tokenizer trained on the corpus.

Built from a config (no download), saved with ``save_pretrained``, then loaded by path exactly
as the colab/paper profiles load a hub id. The transformers calls live in
:mod:`dclm.train.hf`. Introduced in the Monday chapter.
"""

from dclm.train.hf import build_tiny_causal_lm, load_causal_lm, load_tokenizer

__all__ = ["build_tiny_causal_lm", "load_causal_lm", "load_tokenizer"]
