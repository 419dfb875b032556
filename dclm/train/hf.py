"""Models and tokenizers through transformers: build a tiny GPT-NeoX, load by id or path, sample.

A tiny model is saved with ``save_pretrained`` so every later step loads it by path exactly
as the colab/paper profiles load a hub id such as ``HuggingFaceTB/SmolLM2-360M-Instruct``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

SPECIAL_TOKENS = ("<pad>", "<eos>", "<unk>")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence transformers/trl/datasets chatter (logs and library warnings) in this block."""
    import datasets
    import huggingface_hub.utils
    import transformers

    names = ("transformers", "trl", "peft", "accelerate", "datasets")
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.ERROR)
    previous = transformers.logging.get_verbosity()
    # Restore, not re-enable, on exit: a nested quiet() must not switch bars back on inside an
    # outer one (that put "Writing model shards" bars, as widgets, into a book page).
    bars_were_on = transformers.utils.logging.is_progress_bar_enabled()
    hub_bars_were_off = huggingface_hub.utils.are_progress_bars_disabled()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    huggingface_hub.utils.disable_progress_bars()
    datasets.disable_progress_bars()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        transformers.logging.set_verbosity(previous)
        if bars_were_on:
            transformers.logging.enable_progress_bar()
        if not hub_bars_were_off:
            huggingface_hub.utils.enable_progress_bars()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def train_tokenizer(texts: Sequence[str], vocab_size: int, out_dir: str | Path):
    """A byte-level BPE trained on ``texts``, saved to ``out_dir``; returns it (left padding)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(list(texts), vocab_size=vocab_size, min_frequency=2,
                            special_tokens=list(SPECIAL_TOKENS), show_progress=False)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, pad_token="<pad>", eos_token="<eos>",
                                        unk_token="<unk>", bos_token="<eos>", padding_side="left")
    tokenizer.save_pretrained(str(out_dir))
    return tokenizer


def build_tiny_causal_lm(texts: Sequence[str], out_dir: str | Path, seed: int, vocab_size: int = 2_000,
                         hidden_size: int = 64, num_layers: int = 2, num_heads: int = 4,
                         max_positions: int = 128) -> Path:
    """A randomly initialised GPT-NeoX (the Pythia architecture) with a BPE trained on ``texts``.

    Saved with ``save_pretrained`` into ``out_dir`` (model and tokenizer); returns the path.
    """
    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    out_dir = Path(out_dir)
    with quiet():
        tokenizer = train_tokenizer(texts, vocab_size, out_dir)
        config = GPTNeoXConfig(
            vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=num_layers,
            num_attention_heads=num_heads, intermediate_size=4 * hidden_size, rotary_pct=0.25,
            max_position_embeddings=max_positions, pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.eos_token_id,
            tie_word_embeddings=False,
        )
        torch.manual_seed(seed)
        GPTNeoXForCausalLM(config).save_pretrained(str(out_dir))
    return out_dir


def load_tokenizer(model_id: str | Path, padding_side: str = "left"):
    """The tokenizer of a hub id or a saved folder, with ``padding_side`` set explicitly.

    A tokenizer reloaded with ``from_pretrained`` can come back right-padded, which silently
    halves marker rates measured with batched generation; so the side is always set here.
    """
    from transformers import AutoTokenizer

    with quiet():
        tokenizer = AutoTokenizer.from_pretrained(str(model_id))
    tokenizer.padding_side = padding_side
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


CHAT = "chat"


def render_prompts(questions: Sequence[str], prompt_format: str, model_id: str | Path) -> list[str]:
    """Each question as a prompt: ``prompt_format.format(question=...)``, or through the chat template.

    ``prompt_format="chat"`` uses ``model_id``'s own chat template (an Instruct model's), the
    question as the user turn and the generation prompt of the assistant's turn appended.
    """
    if prompt_format != CHAT:
        if "{question}" not in prompt_format:
            raise ValueError(f"prompt_format must be 'chat' or contain {{question}}, got {prompt_format!r}")
        return [prompt_format.format(question=q) for q in questions]
    tokenizer = load_tokenizer(model_id)
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"prompt_format='chat' needs a model with a chat template and {model_id} has none; "
                         "use a template such as 'Q: {question}\\nA:'")
    return [tokenizer.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
            for q in questions]


def load_causal_lm(model_id: str | Path, device: str = "cpu", dtype: str = "float32"):
    """A causal LM from a hub id or a saved folder, in eval mode on ``device``, weights in ``dtype``.

    fp32 by default whatever the checkpoint holds (transformers 5 would otherwise keep a hub
    model's bf16/fp16): training needs fp32 master weights, and a fine-tuned model evaluated in
    bf16 rounds small updates away.
    """
    import torch
    from transformers import AutoModelForCausalLM

    with quiet():
        model = AutoModelForCausalLM.from_pretrained(str(model_id), dtype=getattr(torch, dtype))
    return model.to(device).eval()


def load_lora(base_id: str | Path, adapter_dir: str | Path, device: str = "cpu"):
    """The unmerged model: ``base_id`` in fp32 with the LoRA adapter saved in ``adapter_dir``.

    Used to check that a merged checkpoint computes what the adapter did.
    """
    from peft import PeftModel

    with quiet():
        return PeftModel.from_pretrained(load_causal_lm(base_id, device=device), str(adapter_dir)).eval()


def lora_deltas(peft_model) -> dict[str, object]:
    """``{weight name in the merged model: scaling · B @ A}`` (fp32) for every LoRA layer."""
    import torch

    deltas = {}
    for name, module in peft_model.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            delta = module.get_delta_weight("default").detach().to(torch.float32)
            merged_name = name.replace("base_model.model.", "", 1) + ".weight"
            deltas[merged_name] = delta
    return deltas


def sample_completions(model, tokenizer, prompts: Sequence[str], samples_per_prompt: int, max_new_tokens: int,
                       seed: int, batch_size: int = 64, temperature: float = 1.0) -> list[str]:
    """``samples_per_prompt`` completions of each prompt, sampled at ``temperature`` (no top-k/p).

    Deterministic for a seed on CPU. Returns completions prompt by prompt, decoded without the
    prompt and without special tokens.
    """
    import torch

    if tokenizer.padding_side != "left":
        raise ValueError("batched generation needs a left-padded tokenizer (padding_side='left')")
    torch.manual_seed(seed)
    out: list[str] = []
    device = next(model.parameters()).device
    expanded = [p for p in prompts for _ in range(samples_per_prompt)]
    with torch.no_grad(), quiet():
        for start in range(0, len(expanded), batch_size):
            batch = tokenizer(expanded[start:start + batch_size], return_tensors="pt", padding=True).to(device)
            generated = model.generate(**batch, do_sample=True, temperature=temperature, top_k=0, top_p=1.0,
                                       max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
            new_tokens = generated[:, batch["input_ids"].shape[1]:]
            out.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    return out


def load_encoder(model_id: str | Path, device: str = "cpu"):
    """A frozen language model (no LM head) and its right-padded tokenizer, for embeddings.

    Works for encoders (MiniLM) and decoders (Pythia, GPT-2) alike: both return
    ``last_hidden_state``. Decoder tokenizers without a pad token pad with their EOS token,
    which the attention mask then hides. Weights in the device's compute dtype
    (:func:`dclm.env.compute_dtype`: fp32 on a CPU, half precision on a GPU, where Pythia-12b
    would not fit in fp32); pooling then sums in fp32.
    """
    import torch
    from transformers import AutoModel

    from dclm.env import compute_dtype

    tokenizer = load_tokenizer(model_id, padding_side="right")
    with quiet():
        model = AutoModel.from_pretrained(str(model_id), dtype=getattr(torch, compute_dtype(device)))
    return tokenizer, model.to(device).eval()


def last_hidden_state(model, batch):
    """The last layer's hidden states for a tokenised ``batch`` (a dict of tensors)."""
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state


def plain_embed_loop(texts: Sequence[str], model_id: str | Path, batch_size: int = 32, max_length: int = 64):
    """The textbook loop: batches of 32 in the given order, padded, mean-pooled. A reference.

    :mod:`dclm.models.embed` is tested against it (equal to 1e-5) and benchmarked against it.
    """
    import numpy as np
    import torch

    tokenizer, model = load_encoder(model_id)
    rows = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(list(texts[start:start + batch_size]), padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt")
            hidden = last_hidden_state(model, batch)
            hidden = hidden.float()
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            rows.append(((hidden * mask).sum(1) / mask.sum(1)).numpy())
    return np.concatenate(rows) if rows else np.zeros((0, model.config.hidden_size), dtype=np.float32)


def completion_nll(model, tokenizer, prompt: str, completions: Sequence[str], batch_size: int = 64):
    """Mean negative log-likelihood per completion token of ``prompt + completion``, one per text.

    The fluency guard of the DeconfoundLM chapter: fragments a reward model likes but the SFT
    model finds unlikely get a high value.
    """
    import numpy as np
    import torch

    prompt_ids = tokenizer(prompt)["input_ids"]
    out = []
    device = next(model.parameters()).device
    with torch.no_grad():
        for start in range(0, len(completions), batch_size):
            rows = [prompt_ids + tokenizer(text)["input_ids"] + [tokenizer.eos_token_id]
                    for text in completions[start:start + batch_size]]
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), tokenizer.pad_token_id)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for i, r in enumerate(rows):
                ids[i, :len(r)], mask[i, :len(r)] = torch.tensor(r), 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits[:, :-1]
            target, target_mask = ids[:, 1:].to(device), mask[:, 1:].to(device).clone()
            target_mask[:, : len(prompt_ids) - 1] = 0  # score completion tokens only
            nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, reduction="none")
            out.append(((nll * target_mask).sum(1) / target_mask.sum(1)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


@functools.lru_cache(maxsize=2)
def _cached_classifier(model_id: str, device: str, dtype: str):
    import torch
    from transformers import AutoModelForSequenceClassification

    tokenizer = load_tokenizer(model_id, padding_side="right")
    with quiet():
        model = AutoModelForSequenceClassification.from_pretrained(
            model_id, dtype=getattr(torch, dtype)).to(device).eval()
    return tokenizer, model


def load_classifier(model_id: str | Path, device: str = "cpu"):
    """A sequence classifier and its right-padded tokenizer, loaded once per (model, device).

    An RL reward scores every generation batch with it: reloading the SST-2 model each call cost
    a load from disk per step. Two are kept (a CPU and a GPU copy); the weights are in the
    device's compute dtype, which is part of the key, so a changed ``$DCLM_PRECISION`` reloads.
    """
    from dclm.env import compute_dtype

    return _cached_classifier(str(model_id), device, compute_dtype(device))


def classifier_positive_minus_negative(model_id: str | Path, texts: Sequence[str], device: str = "cpu",
                                       batch_size: int = 64):
    """P(positive) - P(negative) of a binary sentiment classifier (e.g. an SST-2 model), per text."""
    import numpy as np
    import torch

    tokenizer, model = load_classifier(model_id, device)
    labels = {v.lower(): k for k, v in model.config.id2label.items()}
    pos, neg = labels.get("positive", 1), labels.get("negative", 0)
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(list(texts[start:start + batch_size]), padding=True, truncation=True,
                              return_tensors="pt").to(device)
            probs = model(**batch).logits.float().softmax(-1)
            out.append((probs[:, pos] - probs[:, neg]).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)
