"""Is a generated headline fluent? A headline language model, a calibrated guard, and corruptions.

Chapter 5 used to call a generation fluent when the policy's own SFT model found it no more
surprising (per-token NLL) than 95% of the held-out headlines. Those were held-out *stories*:
phrases the SFT model had never seen, as surprising to it as a spliced or truncated headline,
so the threshold passed nearly everything the RL policies wrote. Here the judge is a separate
word-level language model of real headlines (:class:`HeadlineLM`), the threshold is a quantile
of its scores on real headlines it was not fitted on (:class:`FluencyGuard`), and
:func:`calibration_table` measures what the guard lets through on headlines broken on purpose
(:func:`corrupt`): how often corrupted text passes, and how often real text is flagged.

::

    guard = FluencyGuard.calibrate(reference_titles, held_out_titles, false_alarm=0.05)
    guard.is_fluent(generations)            # one bool per text
    calibration_table(guard, other_held_out_titles, np.random.default_rng(0))

Calibrate on new *headlines* of the reference's stories (the same phrases with other teams),
not on new stories: a story no reference headline tells is made of words and word pairs the
model never saw, so its NLL is as high as garbage's and the threshold would pass garbage, the
old rule's failure. On MIND nearly every title is its own story, so held-out titles are new
stories whatever you do and the threshold is more lenient; :func:`calibration_table` says how
much. Introduced in chapter 5, DeconfoundLM.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
CORRUPTIONS = ("shuffle", "splice", "truncate", "nonword", "repeat")
# Words (letters and digits, inner apostrophes kept) and single punctuation marks, lower-cased.
TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]|_")
# Control, surrogate, private-use and unassigned code points, and U+FFFD, which a decoder writes
# for bytes that are not text: no real headline holds them, so they make a text disfluent outright.
# Format characters (Cf: soft hyphens, zero-width spaces) do occur in real titles and are kept.
BROKEN_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
REPLACEMENT_CHARACTER = "\ufffd"
# Redraws before a corruption gives up on a text (a one-word headline cannot be truncated).
CORRUPT_TRIES = 30


def is_broken(text: str) -> bool:
    """Whether ``text`` (surrounding whitespace aside) holds a control or replacement character."""
    return any(ch == REPLACEMENT_CHARACTER or unicodedata.category(ch) in BROKEN_CATEGORIES
               for ch in text.strip())


def tokenize(text: str) -> list[str] | None:
    """Lower-cased word and punctuation tokens of ``text``; None when it :func:`is_broken`."""
    return None if is_broken(text) else TOKEN.findall(text.lower())


def _texts(texts, name: str) -> list[str]:
    # One headline passed where a list was meant would otherwise be read as a list of letters.
    if isinstance(texts, str):
        raise ValueError(f"{name} must be a sequence of strings, got one string: {texts[:40]!r}")
    return list(texts)


class HeadlineLM:
    """Interpolated Kneser–Ney trigram model of words, with sentence boundaries and <unk>.

    Each headline is ``<s> <s> w1 … wn </s>``. The trigram level uses raw counts, the bigram
    and unigram levels Kneser–Ney continuation counts (in how many contexts a word follows),
    each level discounted by ``discount`` and interpolated with the one below; the unigram level
    gives the freed mass uniformly to the vocabulary, ``</s>`` and one ``<unk>`` for every word
    the reference never uses. An unseen word therefore costs its backed-off share of that
    floor, 9–12 nats on chapter 5's generated headlines, where a known word costs 0–4: on a
    closed vocabulary, non-words such as "theoon" are what tiny RL policies write most when
    they break. Introduced in chapter 5.
    """

    def __init__(self, discount: float = 0.75):
        if not 0 < discount < 1:
            raise ValueError(f"discount must be in (0, 1), got {discount}")
        self.discount = discount
        self.sentences: set[str] = set()

    @classmethod
    def fit(cls, texts: Iterable[str], discount: float = 0.75) -> HeadlineLM:
        """A model of ``texts`` (the reference headlines); broken or empty texts are skipped."""
        model = cls(discount)
        sentences = [tokens for tokens in map(tokenize, _texts(texts, "texts")) if tokens]
        if not sentences:
            raise ValueError("texts (the reference headlines) holds no scorable headline: nothing to fit")
        model.sentences = {" ".join(tokens) for tokens in sentences}
        model.c3 = Counter()
        for tokens in sentences:
            padded = [BOS, BOS, *tokens, EOS]
            model.c3.update(zip(padded, padded[1:], padded[2:], strict=False))
        model.ctx3, model.types3 = Counter(), Counter()
        model.c2 = Counter()
        for (u, v, w), count in model.c3.items():
            model.ctx3[u, v] += count
            model.types3[u, v] += 1
            model.c2[v, w] += 1
        model.ctx2, model.types2 = Counter(), Counter()
        model.c1 = Counter()
        for (v, w), count in model.c2.items():
            model.ctx2[v] += count
            model.types2[v] += 1
            model.c1[w] += 1
        model.total1 = sum(model.c1.values())
        model.vocabulary = frozenset(w for tokens in sentences for w in tokens)
        # The uniform floor covers every word the model can name, </s>, and <unk>.
        model.floor = model.discount * len(model.c1) / model.total1 / (len(model.vocabulary) + 2)
        return model

    def prob(self, word: str, history: Sequence[str] = ()) -> float:
        """P(word | the last two tokens of ``history``), ``<s>``-padded; words the reference
        never uses are ``<unk>``. Summed over the vocabulary, ``</s>`` and ``<unk>`` it is 1."""
        u, v = ([BOS, BOS, *history])[-2:]
        return self._p3(self._known(word), self._known(u), self._known(v))

    def _known(self, word: str) -> str:
        return word if word in self.vocabulary or word in (BOS, EOS) else UNK

    def _p1(self, w: str) -> float:
        return max(self.c1.get(w, 0) - self.discount, 0) / self.total1 + self.floor

    def _p2(self, w: str, v: str) -> float:
        total = self.ctx2.get(v, 0)
        if not total:
            return self._p1(w)
        kept = max(self.c2.get((v, w), 0) - self.discount, 0) / total
        return kept + self.discount * self.types2[v] / total * self._p1(w)

    def _p3(self, w: str, u: str, v: str) -> float:
        total = self.ctx3.get((u, v), 0)
        if not total:
            return self._p2(w, v)
        kept = max(self.c3.get((u, v, w), 0) - self.discount, 0) / total
        return kept + self.discount * self.types3[u, v] / total * self._p2(w, v)

    def surprisals(self, text: str) -> np.ndarray:
        """−log P of each token of ``text`` and of ``</s>``, in nats; ``[inf]`` for a broken or
        empty text (no headline is empty or holds a control character)."""
        tokens = tokenize(text)
        if not tokens:
            return np.array([math.inf])
        padded = [BOS, BOS, *map(self._known, tokens), EOS]
        return np.array([-math.log(self._p3(w, u, v))
                         for u, v, w in zip(padded, padded[1:], padded[2:], strict=False)])

    def nll(self, texts: Iterable[str], power: float = 1.0) -> np.ndarray:
        """Per-word NLL of each text in nats, ``</s>`` included (a headline that stops early
        pays for stopping). ``power`` p > 1 gives the power mean ``(mean s_i^p)^(1/p)`` of the
        token surprisals s_i, which lets one broken word pair count instead of averaging away."""
        if power < 1:
            raise ValueError(f"power must be at least 1 (1 is the plain mean), got {power}")
        return np.array([np.mean(s ** power) ** (1 / power)
                         for s in map(self.surprisals, _texts(texts, "texts"))])

    def perplexity(self, texts: Iterable[str]) -> float:
        """exp(total NLL / total tokens) over ``texts``, ``</s>`` counted; inf if one is broken."""
        scores = [self.surprisals(t) for t in _texts(texts, "texts")]
        if not scores:
            raise ValueError("texts is empty: no perplexity to compute")
        return float(np.exp(np.sum([s.sum() for s in scores]) / sum(len(s) for s in scores)))


class FluencyGuard:
    """Calls a text fluent when its score under a :class:`HeadlineLM` of real headlines is at
    most ``threshold``, the (1 − ``false_alarm``) quantile of the scores of held-out real ones.

    The score is the per-word NLL (nats) as a power mean with ``power`` = 3: a splice breaks at
    one word pair and costs 7–10 nats there, which a plain mean (``power=1``) spreads over a
    long headline until it looks like a real one with an unseen team. Rules, beyond the model
    (disclosed settings, not calibrated): an empty text, or one with a control character or
    U+FFFD (see :func:`is_broken`), is disfluent outright. Introduced in chapter 5.
    """

    def __init__(self, lm: HeadlineLM, threshold: float, false_alarm: float, power: float = 3.0):
        self.lm, self.threshold, self.false_alarm, self.power = lm, float(threshold), false_alarm, power

    @classmethod
    def calibrate(cls, reference_texts: Iterable[str], held_out_texts: Iterable[str],
                  false_alarm: float = 0.05, power: float = 3.0, discount: float = 0.75) -> FluencyGuard:
        """Fit the model on ``reference_texts`` and set the threshold so that a share
        ``false_alarm`` of ``held_out_texts`` (real headlines absent from the reference) fails.

        ``false_alarm`` must be in (0, 0.5): the share of real headlines you accept to flag.
        """
        if not 0 < false_alarm < 0.5:
            raise ValueError(f"false_alarm must be in (0, 0.5), the share of real headlines to flag, got {false_alarm}")
        reference = _texts(reference_texts, "reference_texts")
        held_out = _texts(held_out_texts, "held_out_texts")
        if not reference:
            raise ValueError("reference_texts is empty: the guard needs real headlines to fit its model on")
        if not held_out:
            raise ValueError("held_out_texts is empty: the guard needs held-out real headlines to set its threshold")
        lm = HeadlineLM.fit(reference, discount)
        scores = lm.nll(held_out, power)
        finite = scores[np.isfinite(scores)]
        # Broken held-out texts are flagged whatever the threshold; they spend the budget first.
        budget = false_alarm * len(scores) - (len(scores) - len(finite))
        if budget <= 0:
            raise ValueError(f"{len(scores) - len(finite)} of {len(scores)} held_out_texts are empty or hold "
                             f"control characters, false_alarm={false_alarm} of them or more: pass real headlines")
        return cls(lm, float(np.quantile(finite, 1 - budget / len(finite))), false_alarm, power)

    def score(self, texts: Iterable[str]) -> np.ndarray:
        """The guard's per-word NLL of each text (nats, power mean with ``power``)."""
        return self.lm.nll(texts, self.power)

    def is_fluent(self, texts: Iterable[str]) -> np.ndarray:
        """One bool per text: its score is at most the threshold (inf scores never are)."""
        return self.score(texts) <= self.threshold

    def report(self, texts: Iterable[str]) -> dict:
        """``fluent_share`` of ``texts``; ``median_nll``, the median plain per-word NLL (nats);
        ``perplexity`` of the texts that are not broken; ``broken_share``; ``n``."""
        texts = _texts(texts, "texts")
        if not texts:
            raise ValueError("texts is empty: nothing to report on")
        scorable = [t for t in texts if tokenize(t)]
        return {"fluent_share": float(self.is_fluent(texts).mean()),
                "median_nll": float(np.median(self.lm.nll(texts))),
                "perplexity": self.lm.perplexity(scorable) if scorable else math.inf,
                "broken_share": 1 - len(scorable) / len(texts), "n": len(texts)}

    def summary(self) -> str:
        return (f"FluencyGuard: fluent when per-word NLL (power mean, p={self.power:g}) <= "
                f"{self.threshold:.3f} nats; calibrated to flag {self.false_alarm:.0%} of real held-out "
                f"headlines; {len(self.lm.vocabulary)} words, {len(self.lm.sentences)} reference headlines")


def _mangle(word: str, other: str, rng: np.random.Generator) -> str:
    # The start of one word run into the end of another, as a subword policy glues pieces:
    # "the" + "noon" -> "theoon".
    return word[:int(rng.integers(1, len(word) + 1))] + other[int(rng.integers(0, len(other))):]


def _corrupt_once(words: list[str], kind: str, texts: list[list[str]], lexicon: set[str],
                  rng: np.random.Generator) -> list[str] | None:
    n = len(words)
    if kind == "shuffle":
        return [words[i] for i in rng.permutation(n)] if n > 1 else None
    if kind == "splice":
        other = texts[int(rng.integers(len(texts)))]
        if other == words or n < 2 or len(other) < 2:
            return None
        return words[:int(rng.integers(1, n))] + other[int(rng.integers(1, len(other))):]
    if kind == "truncate":
        return words[:int(rng.integers(1, n))] if n > 1 else None
    if kind == "nonword":
        i = int(rng.integers(n))
        donor = texts[int(rng.integers(len(texts)))]
        mangled = _mangle(words[i], donor[int(rng.integers(len(donor)))], rng)
        known = len(mangled) < 2 or any(t in lexicon for t in TOKEN.findall(mangled.lower()))
        return None if known else [*words[:i], mangled, *words[i + 1:]]
    start = int(rng.integers(n))  # repeat: a run of 1-3 words said twice
    span = words[start:start + int(rng.integers(1, 4))]
    return [*words[:start + len(span)], *span, *words[start + len(span):]]


def corrupt(texts: Sequence[str], kind: str, rng: np.random.Generator,
            valid: Iterable[str] = ()) -> list[str]:
    """One disfluent version of each of ``texts`` (in order), made by ``kind`` in :data:`CORRUPTIONS`.

    - ``shuffle``: the words in a random order.
    - ``splice``: the start of the text (1 to n−1 words) run into the end of another text
      (from its second word on): two stories merged mid-way, the commonest RL failure.
    - ``truncate``: cut after a random non-final word, leaving a dangling word or phrase.
    - ``nonword``: one word replaced by the start of it run into the end of another word
      ("the" + "noon" → "theoon"), never a word any of ``texts`` or ``valid`` uses.
    - ``repeat``: a run of 1–3 words said twice in a row.

    A result that is one of ``texts`` or ``valid`` (the real headlines you know of; compared
    token by token, case aside) is a real headline by accident and is redrawn; a text that
    yields none in :data:`CORRUPT_TRIES` draws (a one-word headline cannot be truncated) is
    skipped, so the list can be shorter than ``texts``. Introduced in chapter 5.
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"kind must be one of {CORRUPTIONS}, got {kind!r}")
    texts = _texts(texts, "texts")
    split = [t.split() for t in texts if t.split()]
    if not split:
        raise ValueError("texts holds no words: nothing to corrupt")
    real = {" ".join(TOKEN.findall(t.lower())) for t in [*texts, *_texts(valid, "valid")]}
    lexicon = {w for sentence in real for w in sentence.split()}
    out = []
    for words in split:
        for _ in range(CORRUPT_TRIES):
            broken = _corrupt_once(words, kind, split, lexicon, rng)
            if broken and " ".join(TOKEN.findall(" ".join(broken).lower())) not in real:
                out.append(" ".join(broken))
                break
    return out


def calibration_table(guard: FluencyGuard, real_held_out: Sequence[str], rng: np.random.Generator,
                      repeats: int = 1, valid: Iterable[str] = ()) -> dict:
    """What the guard gets wrong, the table chapter 5 reports.

    ``false_alarm``: the share of ``real_held_out`` (real headlines that neither fitted nor
    calibrated the guard) it calls disfluent. ``false_pass[kind]``: the share it calls fluent
    of ``repeats`` corruptions of each of them by each kind in :data:`CORRUPTIONS`;
    ``false_pass_overall`` pools the kinds. ``n`` counts the texts behind each share; a
    corruption equal to a reference headline, one of ``real_held_out`` or ``valid`` is redrawn.
    """
    real = _texts(real_held_out, "real_held_out")
    if not real:
        raise ValueError("real_held_out is empty: the table needs real held-out headlines")
    if repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats}")
    known = [*guard.lm.sentences, *_texts(valid, "valid")]
    passed = {kind: guard.is_fluent(corrupt(real * repeats, kind, rng, valid=known)) for kind in CORRUPTIONS}
    pooled = np.concatenate(list(passed.values()))
    return {"false_alarm": float(np.mean(~guard.is_fluent(real))),
            "false_pass": {kind: float(np.mean(p)) for kind, p in passed.items()},
            "false_pass_overall": float(np.mean(pooled)),
            "n": {"real": len(real), **{kind: len(p) for kind, p in passed.items()}},
            "threshold": guard.threshold}
