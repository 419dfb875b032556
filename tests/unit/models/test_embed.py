"""Frozen-LM embeddings: equal to the plain loop, cached atomically, padding-invariant."""

import numpy as np
import pytest

from dclm.models import embed
from dclm.train import hf

HEADLINES = [
    "This Dad Wrote A Letter To His Daughter. It Will Make You Cry.",
    "Watch what happens next",
    "A short one",
    "The 9 most surprising things scientists learned about sleep this year, ranked by how weird they are",
    "Why Everyone Is Talking About This Tiny Town In Iowa",
    "She Asked A Simple Question",
] * 7 + [f"Headline number {i} about a thing that happened" for i in range(12)]


@pytest.fixture(scope="module")
def minilm_path():
    return embed.resolve_model(embed.MINILM_ID)


def test_embeddings_equal_the_plain_loop(minilm_path, tmp_path):
    ours = embed.embed_texts(HEADLINES, cache_dir=tmp_path, show_progress=False)
    plain = hf.plain_embed_loop(HEADLINES, minilm_path)
    assert ours.shape == (len(HEADLINES), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, plain, atol=1e-5, rtol=0)


def test_cache_is_read_back_and_only_missing_texts_are_embedded(tmp_path, monkeypatch):
    first = embed.embed_texts(HEADLINES[:10], cache_dir=tmp_path, show_progress=False)
    seen: list[int] = []
    real = embed._embed_missing

    def counting(texts, *args, **kwargs):
        seen.append(len(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(embed, "_embed_missing", counting)
    again = embed.embed_texts(HEADLINES[:10], cache_dir=tmp_path, show_progress=False)
    assert seen == [] and np.array_equal(first, again)
    more = embed.embed_texts(HEADLINES, cache_dir=tmp_path, show_progress=False)
    assert seen == [len(set(HEADLINES)) - len(set(HEADLINES[:10]))]
    np.testing.assert_array_equal(more[:10], first)
    folder = embed.EmbeddingCache(tmp_path, embed.MINILM_ID, "mean", 64).folder
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no temp files


def test_cache_keys_separate_pooling_and_length(tmp_path):
    a = embed.EmbeddingCache(tmp_path, embed.MINILM_ID, "mean", 64).folder
    assert a != embed.EmbeddingCache(tmp_path, embed.MINILM_ID, "last", 64).folder
    assert a != embed.EmbeddingCache(tmp_path, embed.MINILM_ID, "mean", 32).folder
    assert a != embed.EmbeddingCache(tmp_path, "EleutherAI/pythia-70m", "mean", 64).folder


def test_a_crash_keeps_finished_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(embed, "BATCHES_PER_SHARD", 1)
    monkeypatch.setattr(embed, "length_batches", lambda lengths: [np.array([i]) for i in range(len(lengths))])
    calls = {"n": 0}
    real = hf.last_hidden_state

    def dies_on_fourth(model, batch):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(model, batch)

    monkeypatch.setattr(hf, "last_hidden_state", dies_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        embed.embed_texts(HEADLINES[:6], cache_dir=tmp_path, show_progress=False)
    cached = embed.EmbeddingCache(tmp_path, embed.MINILM_ID, "mean", 64).load()
    assert len(cached) == 3


def test_last_token_pooling_ignores_right_padding(tmp_path):
    """A decoder (tiny GPT-NeoX saved like a hub model): a text's vector does not depend on its batch."""
    model_dir = hf.build_tiny_causal_lm(HEADLINES * 3, tmp_path / "tiny", seed=0, vocab_size=300)
    texts = ["A short one", HEADLINES[3], HEADLINES[0]]
    for pooling in embed.POOLINGS:
        together = embed.embed_texts(texts, model_id=str(model_dir), pooling=pooling, use_cache=False,
                                     show_progress=False)
        alone = np.concatenate([embed.embed_texts([t], model_id=str(model_dir), pooling=pooling, use_cache=False,
                                                  show_progress=False) for t in texts])
        np.testing.assert_allclose(together, alone, atol=1e-5, rtol=0)
    assert not np.allclose(together[0], embed.embed_texts(texts[:1], model_id=str(model_dir), pooling="mean",
                                                          use_cache=False, show_progress=False)[0])


def test_length_batches_cover_every_text_once_within_the_token_budget():
    lengths = np.random.default_rng(0).integers(1, 120, 1000)
    batches = embed.length_batches(lengths, batch_tokens=512)
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(1000))
    assert all(len(b) * lengths[b].max() <= 512 for b in batches)
    assert all(lengths[b].max() - lengths[b].min() <= 119 for b in batches)
    assert lengths[batches[0]].min() >= lengths[batches[-1]].max()  # longest first


@pytest.mark.parametrize(("kwargs", "message"), [({"pooling": "cls"}, "pooling must be one of"),
                                                 ({"max_length": 0}, "max_length must be")])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(embed.EmbeddingError, match=message):
        embed.embed_texts(["x"], use_cache=False, **kwargs)
