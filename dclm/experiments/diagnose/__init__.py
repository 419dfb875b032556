"""Chapter 6: is my reward confounded? The canary test where the truth is known, λ without an
experiment, and the method's limits measured.

- **Canaries** (:func:`dclm.eval.canary.canary_test`) on three data sets whose truth is known:
  the Monday answers of chapter 3 (a pairwise reward from raw scores, and from scores with
  the weekday removed), the headlines of chapter 5 (its five reward models in each of its
  settings; the truth of each is measured: does its held-out score load on the true popularity
  beyond the sentiment?) and the Upworthy archive of chapter 4 (the observational ridge, and a
  reward fitted only on within-test-image differences, which randomisation makes experimental).
  Hit and false-alarm rates count, over data draws, how often the test flags confounded and
  clean rewards.
- **λ without an experiment**: on Upworthy, over split seeds, rules that use observational
  data only (validation MSE, the smallest λ whose canary is not paid, validation on the latest
  quarter of the training period) are scored on the experimental test pairs.
- **Limits**: the exclusion restriction broken (Z moves y directly by δ), additivity broken
  (h depends on the text through an interaction), and a weak instrument, each a simulation
  from :func:`dclm.causal.simulate.simulate_popularity`.

Embeddings of the historical texts come from the shared cache; only the marked copies of a
pool of rows and of the evaluation texts are new.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from dclm.eval.canary import DEFAULT_MARKER, canary_test, insert_marker
from dclm.experiments import deconfound, monday, upworthy
from dclm.models.embed import MINILM_ID
from dclm.models.probe import Probe
from dclm.profiles import Profile, apply_settings
from dclm.stats import pair_auc, ridge_path
from dclm.train.options import DEFAULT_OPTIONS, JobOptions

SEED_DOC = (
    "seeds the generated Monday answers and chapter-5 headlines, every canary placement and permutation, "
    "the chapter-5 outcome draws (replicate r > 0 uses (seed, r)), the Upworthy split seeds "
    "seed..seed+split_seeds-1 and the limits' simulations"
)
DATASETS = ("monday", *(f"deconfound_{s}" for s in deconfound.SETTINGS), "upworthy")
REWARDS = {"monday": ("raw", "deconfounded"), "upworthy": ("observational", "experimental"),
           **{f"deconfound_{s}": deconfound.METHODS for s in deconfound.SETTINGS}}
REWARD_LABELS = {"raw": "raw scores", "deconfounded": "weekday removed",
                 "observational": "observational ridge", "experimental": "within-test-image ridge",
                 **deconfound.METHOD_LABELS}
REWARD_COLORS = {"raw": "naive", "deconfounded": "iv", "observational": "naive", "experimental": "experimental",
                 **{m: m for m in deconfound.METHODS}}
LAMBDA_RULES = ("validation_mse", "canary", "time_split")
# A chapter-5 reward is "confounded" when its held-out score (in SDs) rises by more than this
# per SD of the true popularity at fixed sentiment: a quarter of the naive reward's smallest
# loading in the tiny run, and several SEs above what the reference reward shows.
TRUTH_LOADING = 0.25
RULE_LABELS = {"validation_mse": "validation MSE", "canary": "smallest lambda the canary does not flag",
               "time_split": "validation MSE on the latest quarter of training"}


@dataclass(frozen=True)
class Config:
    ZERO_OK: ClassVar[tuple[str, ...]] = ()
    seed: int = 0
    marker: str = DEFAULT_MARKER
    canary_seeds: int = 4
    permutations: int = 8
    canary_share: float = 1.0
    top_share: float = 0.25
    # Candidate rows for canaries and evaluation texts: their marked copies are the new embeddings.
    pool_size: int = 800
    n_eval: int = 200
    alpha: float = 0.05
    embed_model_id: str = MINILM_ID
    device: str = "cpu"
    # Monday answers (chapter 3's data side): a pairwise ridge reward on answer embeddings.
    monday_data: str = "generated"
    monday_questions: int = 500
    monday_lambda: float = 100.0
    # Tokens embedded per answer: the canary is a prefix, so a short window keeps it and halves
    # the cost of embedding answers no other chapter embeds.
    monday_max_length: int = 32
    # Chapter 5's headlines: independent outcome draws per setting (for hit and false-alarm rates).
    news_data: str = "generated"
    n_news: int = 2_000
    sentiment_model: str = "vader"
    replicates: int = 2
    settings: tuple[str, ...] = deconfound.SETTINGS
    # Upworthy: split seeds of the lambda-rule study and the canary seeds per split there.
    upworthy_data: str = "shipped"
    split_seeds: int = 10
    # 3 seeds and 6 placements: the smallest permutation p is 1/84, below alpha.
    rule_canary_seeds: int = 3
    rule_permutations: int = 6
    time_share: float = 0.25
    # Limits: simulations of chapter 2's graph.
    limits_n: int = 2_000
    limits_reps: int = 100
    limits_beta: float = 1.0
    deltas: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.4)
    strengths: tuple[float, ...] = (0.3, 1.0)
    gammas: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)
    weak_strengths: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0)


def validate(cfg: Config) -> None:
    """Shares in range, settings this module knows, enough seeds for an interval."""
    from dclm.config import ConfigError, check_at_least, check_choice

    check_choice("settings", cfg.settings, deconfound.SETTINGS)
    check_at_least(cfg, {"canary_seeds": 2, "rule_canary_seeds": 2, "split_seeds": 2, "limits_reps": 2,
                         "pool_size": 10, "n_eval": 2})
    for key in ("canary_share", "top_share", "alpha", "time_share"):
        value = getattr(cfg, key)
        if not 0 < value < 1 and not (key == "canary_share" and value == 1):
            raise ConfigError(f"{key}={value}: expected a share between 0 and 1")


def config_for(profile: Profile, seed: int) -> Config:
    """The profile's Monday data source, embedding model, sentiment scorer and device."""
    cfg = Config(seed=seed, monday_data=profile.qa_source, embed_model_id=profile.embed_model_ids[0],
                 sentiment_model=profile.sentiment_model, device=profile.device)
    return apply_settings(cfg, profile, "diagnose")


# ----------------------------------------------------------------------------- shared pieces

class TextFeatures:
    """Embeddings by text, held in memory: every refit of a pipeline looks its texts up here."""

    def __init__(self, cfg: Config, max_length: int = 64):
        self.cfg, self.max_length, self.vectors = cfg, max_length, {}
        # Texts sent to the embedder (the shared cache answers those it already holds), and the
        # seconds spent there: a cold cache costs minutes that a warm one does not.
        self.embedded, self.embed_seconds = 0, 0.0

    def add(self, texts, vectors: np.ndarray | None = None) -> None:
        """Embed the texts not held yet (through the shared cache), or hold the given ``vectors``."""
        import time

        from dclm.models.embed import embed_texts

        texts = list(texts)
        if vectors is None:
            texts = [t for t in dict.fromkeys(texts) if t not in self.vectors]
            if not texts:
                return
            start = time.perf_counter()
            vectors = embed_texts(texts, model_id=self.cfg.embed_model_id, max_length=self.max_length,
                                  device=self.cfg.device)
            self.embed_seconds += time.perf_counter() - start
            self.embedded += len(texts)
        self.vectors.update(zip(texts, vectors, strict=True))

    def __call__(self, texts) -> np.ndarray:
        texts = list(texts)
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.add(missing)
        return np.stack([self.vectors[t] for t in texts])


def _summary(result, truth: bool | None = None, **extra) -> dict:
    row = {"uplift": float(result.uplift), "low": float(result.low), "high": float(result.high),
           "p": float(result.p), "flagged": bool(result.flagged), "tied_mean": float(result.tied_mean),
           "null_mean": float(result.null_mean), "per_seed": result.per_seed.tolist(),
           "null": result.null.tolist(), "n_canaries": result.n_canaries}
    if truth is not None:
        row["truth"] = bool(truth)
    return row | extra


def _pool(n: int, cfg: Config, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Candidate rows for canaries, and evaluation rows, drawn once per data set."""
    pool = np.sort(rng.choice(n, size=min(cfg.pool_size, n // 2), replace=False))
    rest = np.setdiff1d(np.arange(n), pool)
    return pool, np.sort(rng.choice(rest, size=min(cfg.n_eval, len(rest)), replace=False))


# ----------------------------------------------------------------------------- Monday

def monday_canaries(cfg: Config, work_dir: Path) -> dict:
    """Chapter 3's answers: a pairwise reward from raw scores, and from weekday-adjusted scores.

    Pairs are chapter 3's (within question, at most 10 per question; adjusted pairs drop
    differences under its margin); the reward is a ridge on embedding differences. The texts
    carry no "Happy" markers: the canary plays their part. Truth by design: raw scores hold the
    weekday's effect, adjusted ones do not.
    """
    from dclm.data import stackexchange as se
    from dclm.models.probe import fit_probe

    mcfg = monday.Config(seed=cfg.seed, data=cfg.monday_data, n_questions=cfg.monday_questions)
    features = TextFeatures(cfg, cfg.monday_max_length)
    _, answers = monday.load_answers(mcfg, work_dir / "monday")
    answers = answers.reset_index(drop=True)
    texts = answers["body"].map(se.html_to_text).tolist()
    score = answers["score"].to_numpy(dtype=float)
    weekday = answers["weekday"].astype(str).to_numpy()
    rng = np.random.default_rng((cfg.seed, 1))
    pool, eval_rows = _pool(len(texts), cfg, rng)
    eval_texts = [texts[i] for i in eval_rows]
    features.add(texts + insert_marker([texts[i] for i in pool], cfg.marker) + insert_marker(eval_texts, cfg.marker))
    frame = answers[["answer_id", "question_id", "weekday"]].copy()
    position = pd.Series(np.arange(len(frame)), index=frame["answer_id"])

    def pipeline(adjusted: bool):
        def fit(texts_, outcome):
            scored = frame.assign(score=outcome)
            if adjusted:
                scored["adjusted"] = monday.adjust_scores(scored, mcfg.h_estimator)
            pairs = se.preference_pairs(scored, seed=mcfg.seed, score="adjusted" if adjusted else "score",
                                        min_margin=mcfg.deconfounded_margin if adjusted else 0.0)
            x = features(texts_)
            gap = x[position[pairs["chosen_id"]].to_numpy()] - x[position[pairs["rejected_id"]].to_numpy()]
            # Both orders of every pair: a symmetric design, so the probe has no intercept to learn.
            probe = fit_probe(np.vstack([gap, -gap]), np.r_[np.ones(len(gap)), -np.ones(len(gap))],
                              cfg.monday_lambda)
            return lambda batch: probe.score(features(batch))
        return fit

    out = {}
    for name, adjusted in (("raw", False), ("deconfounded", True)):
        result = canary_test(texts, score, weekday, pipeline(adjusted), marker=cfg.marker, seeds=cfg.canary_seeds,
                             permutations=cfg.permutations, canary_share=cfg.canary_share, pool=pool,
                             eval_texts=eval_texts, seed=cfg.seed, alpha=cfg.alpha)
        out[name] = _summary(result, truth=not adjusted, levels=list(result.levels))
    return {"rewards": out, "n_texts": len(texts), "new_embeddings": features.embedded,
            "embed_seconds": features.embed_seconds}


# ----------------------------------------------------------------------------- chapter 5

def _loading(score: np.ndarray, sentiment: np.ndarray, popularity: np.ndarray) -> tuple[float, float]:
    """OLS slope (and SE) of the standardised reward on the true popularity, holding s(T) fixed."""
    from dclm.causal.linear import ols

    z = (score - score.mean()) / (score.std() or 1.0)
    fit = ols(z, np.column_stack([sentiment, popularity]), cov_type="robust")
    name = fit.params.index[-1]
    return float(fit.params[name]), float(fit.std_errors[name])


def deconfound_canaries(cfg: Config, work_dir: Path, features: TextFeatures) -> dict:
    """Chapter 5's five rewards in each setting, over ``replicates`` independent outcome draws.

    The canary is tied to the top quarter of the *logged* popularity (what the analyst has).
    Truth per reward and draw: its held-out score, in SDs, rises by more than
    :data:`TRUTH_LOADING` per SD of the true popularity at fixed s(T), i.e. it pays for what
    raises exposure, not only for the text's tone.
    """
    from dclm.models.sentiment import sentiment

    dcfg = deconfound.Config(seed=cfg.seed, data=cfg.news_data, n_news=cfg.n_news,
                             sentiment_model=cfg.sentiment_model, embed_model_id=cfg.embed_model_id,
                             device=cfg.device, settings=cfg.settings)
    headlines = deconfound.load_headlines(dcfg, work_dir / "news")
    headlines["sentiment"] = sentiment(headlines["title"].tolist(), dcfg.sentiment_model, device=dcfg.device)
    titles = headlines["title"].tolist()
    s = headlines["sentiment"].to_numpy()
    rng = np.random.default_rng((cfg.seed, 2))
    pool, eval_rows = _pool(len(titles), cfg, rng)
    eval_texts = [titles[i] for i in eval_rows]
    features.add(titles + insert_marker([titles[i] for i in pool], cfg.marker) + insert_marker(eval_texts, cfg.marker))
    plain = features(titles)
    out: dict = {f"deconfound_{setting}": {m: [] for m in deconfound.METHODS} for setting in cfg.settings}
    from dclm.env import progress

    jobs = [(r, i, setting) for r in range(cfg.replicates) for i, setting in enumerate(cfg.settings)]
    for r, i, setting in progress(jobs, desc="chapter-5 canaries"):
        draw = cfg.seed if r == 0 else (cfg.seed, r)
        train, test = deconfound.split_by_story(headlines["title"], headlines["team"], np.random.default_rng(draw),
                                                dcfg.test_share)
        outcomes = deconfound.outcomes_for(headlines, setting, dcfg, np.random.default_rng(draw))
        for method in deconfound.METHODS:
            def fit(texts_, outcome, method=method, outcomes=outcomes, train=train):
                fitted = deconfound.fit_rewards(features(texts_), outcomes.assign(outcome=outcome), train, dcfg,
                                                methods=(method,))
                probe = Probe.from_stored(fitted["probes"][method])
                return lambda batch: probe.score(features(batch))

            reward = fit(titles, outcomes["outcome"].to_numpy())
            scores = reward(titles)[test]
            slope, se = _loading(scores, s[test], outcomes["popularity"].to_numpy()[test])
            # The naive check: does the reward correlate with the logged confounder?
            corr = float(np.corrcoef(scores, outcomes["observed_popularity"].to_numpy()[test])[0, 1])
            result = canary_test(titles, outcomes["outcome"].to_numpy(), outcomes["observed_popularity"].to_numpy(),
                                 fit, marker=cfg.marker, seeds=cfg.canary_seeds, permutations=cfg.permutations,
                                 canary_share=cfg.canary_share, top_share=cfg.top_share, pool=pool,
                                 eval_texts=eval_texts, seed=1000 * cfg.seed + 10 * r + i, alpha=cfg.alpha)
            out[f"deconfound_{setting}"][method].append(
                _summary(result, truth=slope > TRUTH_LOADING, loading=slope, loading_se=se, corr_confounder=corr))
    del plain
    return {"rewards": out, "n_texts": len(titles)}


# ----------------------------------------------------------------------------- Upworthy

def _quarters(packages: pd.DataFrame) -> np.ndarray:
    return packages["created_at"].dt.to_period("Q").astype(str).to_numpy()


def _ridge_reward(features: TextFeatures, x: np.ndarray, target: np.ndarray, lambdas: np.ndarray,
                  groups: np.ndarray | None = None):
    """A ridge path on standardised embeddings (one reward column per λ); with ``groups``, on
    differences from each group's mean (only within-group comparisons inform it)."""
    # float32 halves the cost of the Gram matrix, the bulk of every refit; standardised
    # features keep its eigenvalues well inside float32's range at these penalties.
    x = np.asarray(x, dtype=np.float32)
    mean, sd = x.mean(0), x.std(0)
    sd = np.where(sd > 0, sd, 1.0).astype(np.float32)
    z, y = (x - mean) / sd, np.asarray(target, dtype=float)
    if groups is not None:
        z = z - pd.DataFrame(z).groupby(groups).transform("mean").to_numpy()
        y = y - pd.Series(y).groupby(groups).transform("mean").to_numpy()
    weights, intercepts = ridge_path(z, y, lambdas)
    return lambda batch: ((features(batch) - mean) / sd) @ weights + intercepts


def upworthy_canaries(cfg: Config, features: TextFeatures) -> dict:
    """Chapter 4's archive: the canary on the observational ridge (every λ, and the λ validation
    MSE picks) and on the within-test-image ridge; then the λ rules over split seeds.

    The confounder is the quarter a test ran in (click rates fell by half over the archive's
    two years); canaries go to the quarters whose mean CTR is above the overall mean.
    """
    from dclm.env import progress

    ucfg = upworthy.Config(seed=cfg.seed, data=cfg.upworthy_data, model_ids=(cfg.embed_model_id,),
                           split_seeds=cfg.split_seeds, device=cfg.device)
    import time

    start = time.perf_counter()
    # Chapter 4's archive and embeddings (cached once chapter 4 ran); counted as embedding time,
    # with the few seconds of reading the archive and building its pairs.
    archive = upworthy.load_archive(ucfg, cfg.embed_model_id)
    features.embed_seconds += time.perf_counter() - start
    texts = archive.texts.tolist()
    features.add(texts, archive.features)
    packages = archive.packages
    ctr, quarter = packages["ctr"].to_numpy(), _quarters(packages)
    lambdas = upworthy.lambda_grid(ucfg)
    rng = np.random.default_rng((cfg.seed, 3))
    candidates, eval_rows = _pool(len(texts), cfg, rng)
    eval_texts = [texts[i] for i in eval_rows]
    features.add(insert_marker([texts[i] for i in candidates], cfg.marker) + insert_marker(eval_texts, cfg.marker))
    x_all = features(texts)

    def observational(rows, seeds, permutations, seed):
        def fit(texts_, outcome):
            return _ridge_reward(features, features(texts_), outcome, lambdas)
        pool = np.flatnonzero(np.isin(rows, candidates))
        return canary_test([texts[i] for i in rows], ctr[rows], quarter[rows], fit, marker=cfg.marker, seeds=seeds,
                           permutations=permutations, canary_share=cfg.canary_share, pool=pool,
                           eval_texts=eval_texts, seed=seed, alpha=cfg.alpha)

    views = upworthy.split_views(archive, cfg.seed, ucfg.alpha)
    sweep = upworthy.observational_sweep(archive, views, lambdas, ucfg.standardize)
    by_mse = int(np.argmin(sweep["val_mse"]))
    obs = observational(views["obs_train"], cfg.canary_seeds, cfg.permutations, cfg.seed)
    rewards = {"observational": {
        "uplift": float(obs.uplift[by_mse]), "low": float(obs.low[by_mse]), "high": float(obs.high[by_mse]),
        "p": float(obs.p[by_mse]), "flagged": bool(obs.flagged[by_mse]), "truth": True,
        "tied_mean": float(obs.tied_mean[by_mse]), "null_mean": float(obs.null_mean[by_mse]),
        "per_seed": obs.per_seed[:, by_mse].tolist(), "null": obs.null[:, by_mse].tolist(),
        "n_canaries": obs.n_canaries, "lambda": float(lambdas[by_mse]), "levels": list(obs.levels)}}
    # The experimental reward: within-test-image differences only, at the λ its validation
    # pairs prefer (it has experiments to validate on).
    rows = views["exp_train"]
    images = archive.image[rows]
    path = _ridge_reward(features, x_all[rows], ctr[rows], lambdas, groups=images)
    val = views["val_pairs"]
    val_auc = pair_auc(upworthy.pair_diffs(archive, val, path(texts)), val["a_wins"].to_numpy())
    best = int(np.argmax(val_auc))

    def experimental(texts_, outcome):
        reward = _ridge_reward(features, features(texts_), outcome, lambdas[best:best + 1], groups=images)
        return lambda batch: reward(batch)[:, 0]

    exp = canary_test([texts[i] for i in rows], ctr[rows], quarter[rows], experimental, marker=cfg.marker,
                      seeds=cfg.canary_seeds, permutations=cfg.permutations, canary_share=cfg.canary_share,
                      pool=np.flatnonzero(np.isin(rows, candidates)), eval_texts=eval_texts, seed=cfg.seed,
                      alpha=cfg.alpha)
    rewards["experimental"] = _summary(exp, truth=False, **{"lambda": float(lambdas[best])})
    by_lambda = {"lambda": lambdas.tolist(), "uplift": obs.uplift.tolist(), "low": obs.low.tolist(),
                 "high": obs.high.tolist(), "p": obs.p.tolist(), "test_auc": sweep["test_auc"].tolist()}

    # λ rules over split seeds: each picks λ from observational data only; the experiment scores it.
    picks: dict[str, list[int]] = {rule: [] for rule in LAMBDA_RULES}
    aucs: dict[str, list[float]] = {rule: [] for rule in (*LAMBDA_RULES, "test_optimal")}
    seeds = [cfg.seed + k for k in range(cfg.split_seeds)]
    created = packages["created_at"].to_numpy()
    for split_seed in progress(seeds, desc="lambda rules (split seeds)"):
        views_k = upworthy.split_views(archive, split_seed, ucfg.alpha)
        sweep_k = upworthy.observational_sweep(archive, views_k, lambdas, ucfg.standardize)
        train = views_k["obs_train"]
        picks["validation_mse"].append(int(np.argmin(sweep_k["val_mse"])))
        canary = observational(train, cfg.rule_canary_seeds, cfg.rule_permutations, split_seed)
        clear = np.flatnonzero(~np.asarray(canary.flagged))
        picks["canary"].append(int(clear[0]) if len(clear) else len(lambdas) - 1)
        order = train[np.argsort(created[train], kind="stable")]
        cut = int(round((1 - cfg.time_share) * len(order)))
        early, late = order[:cut], order[cut:]
        x = upworthy._scaled(archive.features, early, ucfg.standardize)
        weights, intercepts = ridge_path(x[early], ctr[early], lambdas)
        late_mse = ((ctr[late, None] - (x[late] @ weights + intercepts)) ** 2).mean(0)
        picks["time_split"].append(int(np.argmin(late_mse)))
        for rule in LAMBDA_RULES:
            aucs[rule].append(float(sweep_k["test_auc"][picks[rule][-1]]))
        aucs["test_optimal"].append(float(sweep_k["test_auc"].max()))
    return {"rewards": rewards, "by_lambda": by_lambda, "lambda_rules": _rule_metrics(picks, aucs, lambdas, seeds),
            "n_texts": len(texts)}


def _rule_metrics(picks: dict, aucs: dict, lambdas: np.ndarray, seeds: list[int]) -> dict:
    """Per rule: AUC cost against the test-optimal λ (mean and 95% t interval over split seeds),
    and the paired AUC difference against validation MSE."""
    from dclm.stats import seed_interval

    best = np.asarray(aucs["test_optimal"])
    out = {}
    for rule in LAMBDA_RULES:
        cost = best - np.asarray(aucs[rule])
        low, high = seed_interval(cost)
        diff = np.asarray(aucs[rule]) - np.asarray(aucs["validation_mse"])
        d_low, d_high = seed_interval(diff) if np.ptp(diff) > 0 else (float(diff.mean()), float(diff.mean()))
        out[rule] = {"auc_cost": float(cost.mean()), "low": low, "high": high,
                     "auc": float(np.mean(aucs[rule])), "auc_per_split": aucs[rule],
                     "lambda_per_split": [float(lambdas[i]) for i in picks[rule]],
                     "median_lambda": float(np.median([lambdas[i] for i in picks[rule]])),
                     "vs_validation_mse": {"diff": float(diff.mean()), "low": d_low, "high": d_high}}
    out["test_optimal_auc"] = float(best.mean())
    out["split_seeds"] = seeds
    return out


# ----------------------------------------------------------------------------- limits

def limits(cfg: Config) -> dict:
    """The method's assumptions broken one at a time, in chapter 2's entangled news graph.

    - exclusion: y gains δ·Z; per δ and instrument strength, the bias of the IV estimate of β
      (Monte Carlo mean and SE over ``limits_reps`` draws) and corr(ỹ, s) of the deconfounded
      outcome ỹ = y − β̂·p;
    - additivity: y gains γ·s·p (the confounder's effect depends on the text); per γ, the bias
      of β̂, corr(ỹ, s), and what ỹ still pays a good text (s = +1) per SD of popularity;
    - weak instrument: per strength, the first-stage F and the median and 5-95% range of β̂.
    """
    from dclm.causal.iv import wald_ratio
    from dclm.causal.simulate import simulate_popularity

    beta, n, reps = cfg.limits_beta, cfg.limits_n, cfg.limits_reps
    rng = np.random.default_rng((cfg.seed, 4))

    def draw(**kwargs) -> pd.DataFrame:
        return simulate_popularity(n, rng, "entangled", beta=beta, **kwargs)

    exclusion = {"delta": list(cfg.deltas), "strength": list(cfg.strengths), "bias": {}, "bias_se": {},
                 "corr_adjusted_s": {}}
    for a in cfg.strengths:
        biases, ses, corrs = [], [], []
        for delta in cfg.deltas:
            estimates, corr = [], []
            for _ in range(reps):
                f = draw(instrument_strength=a, direct_effect=delta)
                b = wald_ratio(f["outcome"], f["confounder"], f["instrument"])
                estimates.append(b - beta)
                corr.append(np.corrcoef(f["outcome"] - b * f["confounder"], f["quality"])[0, 1])
            biases.append(float(np.mean(estimates)))
            ses.append(float(np.std(estimates, ddof=1) / np.sqrt(reps)))
            corrs.append(float(np.mean(corr)))
        exclusion["bias"][f"{a:g}"], exclusion["bias_se"][f"{a:g}"] = biases, ses
        exclusion["corr_adjusted_s"][f"{a:g}"] = corrs
    # Chapter 2's reference: the bias is δ·Var(Z)/Cov(Z, p), so 1/Cov(Z, p) multiplies δ.
    exclusion["multiplier"] = {f"{a:g}": float(np.sqrt(a**2 + 0.25 + 1.0) / a) for a in cfg.strengths}

    additivity = {"gamma": list(cfg.gammas), "beta_bias": [], "beta_bias_se": [], "corr_adjusted_s": [],
                  "payoff_good_text": [], "payoff_good_text_se": []}
    for gamma in cfg.gammas:
        bias, corr, payoff = [], [], []
        for _ in range(reps):
            f = draw(instrument_strength=1.0)
            y = f["outcome"].to_numpy() + gamma * f["quality"].to_numpy() * f["true_confounder"].to_numpy()
            b = wald_ratio(y, f["confounder"], f["instrument"])
            adjusted = y - b * f["confounder"].to_numpy()
            s, p = f["quality"].to_numpy(), f["confounder"].to_numpy()
            design = np.column_stack([np.ones(n), s, p, s * p])
            coef, *_ = np.linalg.lstsq(design, adjusted, rcond=None)
            bias.append(b - beta)
            corr.append(np.corrcoef(adjusted, s)[0, 1])
            payoff.append(coef[2] + coef[3])
        additivity["beta_bias"].append(float(np.mean(bias)))
        additivity["beta_bias_se"].append(float(np.std(bias, ddof=1) / np.sqrt(reps)))
        additivity["corr_adjusted_s"].append(float(np.mean(corr)))
        additivity["payoff_good_text"].append(float(np.mean(payoff)))
        additivity["payoff_good_text_se"].append(float(np.std(payoff, ddof=1) / np.sqrt(reps)))

    weak = {"strength": list(cfg.weak_strengths), "first_stage_f": [], "median_bias": [], "low": [], "high": [],
            "ols_bias": []}
    for a in cfg.weak_strengths:
        estimates, fs, ols = [], [], []
        for _ in range(reps):
            f = draw(instrument_strength=a)
            estimates.append(wald_ratio(f["outcome"], f["confounder"], f["instrument"]) - beta)
            r = np.corrcoef(f["instrument"], f["confounder"])[0, 1]
            fs.append((n - 2) * r**2 / (1 - r**2))
            c = f["confounder"].to_numpy()
            ols.append(np.cov(c, f["outcome"])[0, 1] / c.var(ddof=1) - beta)
        low, median, high = np.percentile(estimates, [5, 50, 95])
        weak["first_stage_f"].append(float(np.mean(fs)))
        weak["median_bias"].append(float(median))
        weak["low"].append(float(low))
        weak["high"].append(float(high))
        weak["ols_bias"].append(float(np.mean(ols)))
    return {"exclusion": exclusion, "additivity": additivity, "weak": weak}


# ----------------------------------------------------------------------------- the run

def detection(canary: dict, replicated: dict) -> dict:
    """Hit rate (flagged among truly confounded rewards) and false-alarm rate (flagged among
    clean ones), over every data set, reward and data draw; also per data set."""
    rows = []
    for dataset, rewards in replicated.items():
        for reward, draws in rewards.items():
            rows += [{"dataset": dataset, "reward": reward, "truth": d["truth"], "flagged": d["flagged"]}
                     for d in draws]
    for dataset, rewards in canary.items():
        if dataset not in replicated:
            rows += [{"dataset": dataset, "reward": r, "truth": v["truth"], "flagged": v["flagged"]}
                     for r, v in rewards.items()]
    frame = pd.DataFrame(rows)

    def rates(part: pd.DataFrame) -> dict:
        bad, good = part[part["truth"]], part[~part["truth"]]
        return {"hit_rate": float(bad["flagged"].mean()) if len(bad) else None, "n_confounded": int(len(bad)),
                "false_alarm_rate": float(good["flagged"].mean()) if len(good) else None, "n_clean": int(len(good))}

    family = frame["dataset"].str.replace(r"_(orthogonal|entangled|proxy)$", "", regex=True)
    return {**rates(frame), "by_dataset": {name: rates(frame[frame["dataset"] == name])
                                           for name in frame["dataset"].unique()},
            "by_family": {name: rates(frame[family == name]) for name in family.unique()}}


def run(cfg: Config, work_dir: Path, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    import time

    work_dir = Path(work_dir)
    features = TextFeatures(cfg)
    # The ledger: seconds per part and texts sent to the embedder (cached ones cost nothing).
    ledger: dict[str, dict] = {}

    def timed(name: str, part, *args):
        start, embedded, embed_seconds = time.perf_counter(), features.embedded, features.embed_seconds
        out = part(*args)
        ledger[name] = {"seconds": round(time.perf_counter() - start, 1),
                        "texts_embedded": out.get("new_embeddings", features.embedded - embedded),
                        "embedding_seconds": round(out.get("embed_seconds",
                                                           features.embed_seconds - embed_seconds), 1)}
        return out

    mon = timed("monday", monday_canaries, cfg, work_dir)
    dec = timed("deconfound", deconfound_canaries, cfg, work_dir, features)
    upw = timed("upworthy", upworthy_canaries, cfg, features)
    lim = timed("limits", lambda: {"limits": limits(cfg)})["limits"]
    keys = ("uplift", "low", "high", "p", "flagged", "truth")
    canary = {"monday": {r: {k: v for k, v in row.items() if k in keys} for r, row in mon["rewards"].items()},
              "upworthy": {r: {k: v for k, v in row.items() if k in keys} for r, row in upw["rewards"].items()}}
    for dataset, rewards in dec["rewards"].items():
        # The headline numbers are the run's own draw (replicate 0); the others count in the rates.
        canary[dataset] = {m: {k: v for k, v in draws[0].items() if k in keys}
                           | {key: draws[0][key] for key in ("loading", "loading_se", "corr_confounder")}
                           for m, draws in rewards.items()}
    rules = upw["lambda_rules"]
    metrics = {
        "canary": canary,
        "detection": detection(canary, dec["rewards"]),
        "lambda_rule": rules,
        "limits": lim,
        "replicates": cfg.replicates,
        "alpha": cfg.alpha,
        "canary_seeds": cfg.canary_seeds,
        "permutations": cfg.permutations,
        "marker": cfg.marker,
        "monday_levels": mon["rewards"]["raw"]["levels"],
        "upworthy_levels": upw["rewards"]["observational"]["levels"],
        "upworthy_lambda": {"observational": upw["rewards"]["observational"]["lambda"],
                            "experimental": upw["rewards"]["experimental"]["lambda"]},
        "upworthy_by_lambda": upw["by_lambda"],
        "n_texts": {"monday": mon["n_texts"], "deconfound": dec["n_texts"], "upworthy": upw["n_texts"]},
        # Texts beyond the archive's headlines: the Monday answers, the chapter-5 headlines and
        # every marked copy (an upper bound on what was embedded anew; the rest is cached).
        "new_embeddings": mon["new_embeddings"] + features.embedded,
        "ledger": ledger,
    }
    data = {"monday": mon["rewards"], "deconfound": dec["rewards"], "upworthy": upw["rewards"]}
    return {"metrics": metrics, "data": data}


def metrics_alpha(metrics: dict) -> float:
    """The canary tests' level (the run's config; 0.05 by default)."""
    return float(metrics.get("alpha", 0.05))


def claims(metrics: dict) -> dict:
    """The chapter's comparative sentences (:class:`dclm.claims.Claim`), computed from the run.

    ``*_flagged`` hold when the canary test flags the reward (p < alpha and the seed interval
    above 0), ``*_clear`` when it does not; ``rule_<rule>`` when the rule's AUC is not below
    validation MSE's (paired over split seeds); ``exclusion_bias_grows`` when the IV bias at the
    largest δ exceeds the bias at δ = 0 by more than 3 Monte Carlo SEs at every strength.
    """
    from dclm.claims import Claim

    canary = metrics["canary"]

    def verdict(dataset: str, reward: str, expect_flag: bool) -> Claim:
        row = canary[dataset][reward]
        words = "pays the canaries" if row["flagged"] else "does not pay the canaries more than random markers"
        return Claim(row["flagged"] == expect_flag, (
            f"the {REWARD_LABELS[reward]} reward {words} (uplift {row['uplift']:+.2f} reward SDs, 95% interval "
            f"{row['low']:+.2f} to {row['high']:+.2f}, permutation p = {row['p']:.3f})"))

    out = {"naive_entangled_flagged": verdict("deconfound_entangled", "naive", True),
           "monday_raw_flagged": verdict("monday", "raw", True),
           "monday_deconfounded_clear": verdict("monday", "deconfounded", False),
           "upworthy_observational_flagged": verdict("upworthy", "observational", True),
           "upworthy_experimental_clear": verdict("upworthy", "experimental", False)}
    for dataset in canary:
        if dataset.startswith("deconfound_"):
            out[f"oracle_clear_{dataset.removeprefix('deconfound_')}"] = verdict(dataset, "oracle", False)
            out[f"iv_clear_{dataset.removeprefix('deconfound_')}"] = verdict(dataset, "iv", False)
    rules = metrics["lambda_rule"]
    for rule in LAMBDA_RULES[1:]:
        d = rules[rule]["vs_validation_mse"]
        relation = ("higher than" if d["low"] > 0 else "lower than" if d["high"] < 0
                    else "not distinguishable from")
        out[f"rule_{rule}"] = Claim(d["high"] >= 0, (
            f"choosing lambda by {RULE_LABELS[rule]} gives a test AUC {relation} validation MSE's "
            f"(paired difference {d['diff']:+.3f}, 95% interval {d['low']:+.3f} to {d['high']:+.3f} over "
            f"{len(rules['split_seeds'])} split seeds)"))
    by_lambda = metrics["upworthy_by_lambda"]
    shrinks = by_lambda["uplift"][-1] < by_lambda["uplift"][0]
    flagged_all = sum(p < metrics_alpha(metrics) and lo > 0 for p, lo in zip(by_lambda["p"], by_lambda["low"],
                                                                              strict=True))
    out["canary_shrinks_with_lambda"] = Claim(shrinks, (
        f"the observational ridge's canary uplift {'falls' if shrinks else 'does not fall'} from "
        f"{by_lambda['uplift'][0]:+.2f} at lambda = {by_lambda['lambda'][0]:g} to {by_lambda['uplift'][-1]:+.2f} "
        f"at lambda = {by_lambda['lambda'][-1]:,.0f}, and is flagged at {flagged_all} of {len(by_lambda['lambda'])} "
        "penalties"))
    ex = metrics["limits"]["exclusion"]
    grows = all(ex["bias"][a][-1] - ex["bias"][a][0] > 3 * np.hypot(ex["bias_se"][a][-1], ex["bias_se"][a][0])
                for a in ex["bias"])
    weakest, strongest = min(ex["bias"], key=float), max(ex["bias"], key=float)
    out["exclusion_bias_grows"] = Claim(grows, (
        f"a direct effect of delta = {ex['delta'][-1]:g} biases the IV estimate of beta by "
        f"{ex['bias'][strongest][-1]:+.2f} with instrument strength {strongest} and by "
        f"{ex['bias'][weakest][-1]:+.2f} with strength {weakest}"))
    add = metrics["limits"]["additivity"]
    unbiased = abs(add["beta_bias"][-1]) <= 3 * add["beta_bias_se"][-1]
    out["additivity_beta_unbiased"] = Claim(unbiased, (
        f"at gamma = {add['gamma'][-1]:g} the IV estimate of beta is "
        + ("still centred on the truth" if unbiased else "biased")
        + f" (bias {add['beta_bias'][-1]:+.3f}, Monte Carlo SE {add['beta_bias_se'][-1]:.3f})"))
    pays = add["payoff_good_text"][-1] > 3 * add["payoff_good_text_se"][-1]
    out["additivity_still_pays"] = Claim(pays, (
        f"the deconfounded outcome {'still pays' if pays else 'no longer pays'} a good text (s = +1) "
        f"{add['payoff_good_text'][-1]:+.2f} outcome units per SD of popularity at gamma = {add['gamma'][-1]:g}"))
    weak = metrics["limits"]["weak"]
    spread = [h - lo for lo, h in zip(weak["low"], weak["high"], strict=True)]
    out["weak_instrument_spreads"] = Claim(spread[0] > spread[-1], (
        f"the 5-95% range of beta-hat is {spread[0]:.2f} wide at first-stage F {weak['first_stage_f'][0]:.1f} "
        f"and {spread[-1]:.2f} wide at F {weak['first_stage_f'][-1]:.0f}"))
    return out


# ----------------------------------------------------------------------------- figures

def figures(result) -> dict:
    """``canaries`` (uplift and interval per data set and reward), ``detection`` (hit and
    false-alarm rates), ``lambda_rules``, ``canary_by_lambda``, ``limits_exclusion``,
    ``limits_additivity`` and ``limits_weak``."""
    from dclm import viz

    m = result.metrics
    labels, values, intervals, colours = [], [], [], []
    for dataset, rewards in m["canary"].items():
        for reward, row in rewards.items():
            labels.append(f"{dataset}: {REWARD_LABELS[reward]}" + (" *" if row["flagged"] else ""))
            values.append(row["uplift"])
            intervals.append([row["low"], row["high"]])
            colours.append(REWARD_COLORS[reward])
    det = m["detection"]["by_family"]
    families = list(det)

    def rate_se(rate, count):
        return (rate, None if rate is None or not count else float(np.sqrt(rate * (1 - rate) / count)))

    rules = m["lambda_rule"]
    ex, add, weak = m["limits"]["exclusion"], m["limits"]["additivity"], m["limits"]["weak"]
    by_lambda = m["upworthy_by_lambda"]
    return {
        "canaries": viz.dot_whisker(
            labels, values, intervals, truth=0.0, color_name=colours,
            xlabel="reward paid to the canary (reward SDs; 95% interval across canary seeds)",
            title="Canary uplift per data set and reward model (* flagged)", width=7.4, row_height=0.34,
            label_size=8, truth_label="no uplift (0)"),
        "detection": viz.grouped_rates(
            {"hit rate (confounded rewards)": {f: rate_se(det[f]["hit_rate"], det[f]["n_confounded"])
                                               for f in families},
             "false-alarm rate (clean rewards)": {f: rate_se(det[f]["false_alarm_rate"], det[f]["n_clean"])
                                                  for f in families}},
            None, ylabel="share of rewards flagged", title="How often the canary test flags a reward",
            colors={"hit rate (confounded rewards)": "naive", "false-alarm rate (clean rewards)": "oracle"}),
        "lambda_rules": viz.dot_whisker(
            [RULE_LABELS[r] for r in LAMBDA_RULES], [rules[r]["auc_cost"] for r in LAMBDA_RULES],
            [[rules[r]["low"], rules[r]["high"]] for r in LAMBDA_RULES], truth=0.0,
            color_name=["validation", "iv", "feature"],
            xlabel=f"test AUC lost against the test-optimal lambda (95% interval over {len(rules['split_seeds'])} "
                   "split seeds)", title="Choosing lambda from observational data: three rules",
            width=8.4, row_height=0.5, truth_label="no loss (0)"),
        "canary_by_lambda": viz.band_lines(
            by_lambda["lambda"], {"canary uplift of the observational ridge": (
                by_lambda["uplift"], by_lambda["low"], by_lambda["high"], "naive")},
            xlabel="ridge penalty lambda (log scale)", ylabel="canary uplift (reward SDs)",
            title="Upworthy: canary uplift of the observational ridge by penalty", logx=True, zero=True),
        "limits_exclusion": viz.band_lines(
            ex["delta"], {f"instrument strength {a}": (
                ex["bias"][a], *_band(ex["bias"][a], ex["bias_se"][a]), colour)
                for a, colour in zip(ex["bias"], ("naive", "iv"), strict=False)},
            xlabel="direct effect of the instrument on y, delta (outcome units per SD of Z)",
            ylabel="bias of the IV estimate of beta", title="Exclusion violated: IV bias against delta", zero=True),
        "limits_additivity": viz.band_lines(
            add["gamma"], {"beta-hat minus beta": (add["beta_bias"], *_band(add["beta_bias"], add["beta_bias_se"]),
                                                   "iv"),
                           "what y-tilde pays a good text per SD of popularity": (
                               add["payoff_good_text"], *_band(add["payoff_good_text"],
                                                               add["payoff_good_text_se"]), "naive")},
            xlabel="interaction gamma: y gains gamma * s(T) * p", ylabel="outcome units",
            title="Additivity violated: what the deconfounded outcome still pays", zero=True),
        "limits_weak": viz.band_lines(
            weak["first_stage_f"], {"IV estimate (median, 5-95% of draws)": (
                weak["median_bias"], weak["low"], weak["high"], "iv"),
                "OLS estimate (mean)": (weak["ols_bias"], weak["ols_bias"], weak["ols_bias"], "naive")},
            xlabel="first-stage F (log scale)", ylabel="estimate of beta minus beta",
            title="Weak instrument: spread of beta-hat against first-stage F", logx=True, zero=True),
    }


def _band(values, ses) -> tuple[list[float], list[float]]:
    values, ses = np.asarray(values, dtype=float), np.asarray(ses, dtype=float)
    return (values - 1.96 * ses).tolist(), (values + 1.96 * ses).tolist()
