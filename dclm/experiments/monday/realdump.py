"""Chapter 3 on a real dump: ĥ(weekday) within question, with and without answer lag and order.

On a real site more than the weekday differs between answers to one question: the later ones
arrive after the early ones collected the votes, and the hours since the question move with the
weekday. The generator has none of that; the shipped beer.stackexchange.com dump has the dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# What else moves with the weekday inside a question on a real dump.
CONTROLS = ("lag", "order")
# The specifications chapter 3 shows side by side.
LAG_SPECS = {"within question": (), "+ lag": ("lag",), "+ lag and order": ("lag", "order")}


def weekday_effects(questions: pd.DataFrame, answers: pd.DataFrame, controls: tuple[str, ...] = ()) -> pd.DataFrame:
    """ĥ(weekday) within question (question fixed effects), optionally holding answer lag and order fixed.

    On a real dump an answer's weekday is not all that differs between answers to one question:
    later answers arrive after the early ones collected the votes, and the hours since the
    question move with the weekday. ``controls`` adds ``"lag"`` (log of 1 + hours since the
    question) and ``"order"`` (1 for the first answer, 2 for the second, ...) to the
    within-question regression. Returns one row per weekday present: ``effect`` (votes, centred
    to mean zero over the answers, as :func:`adjust_scores` centres ĥ), ``se`` (clustered by
    question) and ``n`` (answers). Introduced in chapter 3.
    """
    from dclm.data.stackexchange import WEEKDAYS

    unknown = [c for c in controls if c not in CONTROLS]
    if unknown:
        raise ValueError(f"controls={unknown}: valid controls are {', '.join(CONTROLS)}")
    asked = questions.set_index("question_id")["created_at"]
    frame = answers.assign(asked_at=answers["question_id"].map(asked)).dropna(subset=["asked_at"])
    hours = ((frame["created_at"] - frame["asked_at"]).dt.total_seconds() / 3600).clip(lower=0)
    days = [d for d in WEEKDAYS if (frame["weekday"].astype(str) == d).any()]
    dummies = np.column_stack([(frame["weekday"].astype(str) == d).to_numpy(float) for d in days[1:]])
    extra = {"lag": np.log1p(hours.to_numpy()),
             "order": frame.groupby("question_id")["created_at"].rank(method="first").to_numpy()}
    design = np.column_stack([dummies, *(extra[c] for c in controls)])
    groups = frame["question_id"].to_numpy()

    def within(values: np.ndarray) -> np.ndarray:
        table = pd.DataFrame(values)
        return (table - table.groupby(groups).transform("mean")).to_numpy()

    x, y = within(design), within(frame["score"].to_numpy(float)[:, None])[:, 0]
    bread = np.linalg.pinv(x.T @ x)
    beta = bread @ x.T @ y
    scores = pd.DataFrame(x * (y - x @ beta)[:, None]).groupby(groups).sum().to_numpy()
    n_groups = len(scores)
    cov = n_groups / max(n_groups - 1, 1) * bread @ (scores.T @ scores) @ bread
    # ĥ of each day (0 for the first), minus its mean over the answers: a linear map of beta.
    share = np.array([(frame["weekday"].astype(str) == d).mean() for d in days])
    contrast = np.vstack([np.zeros(len(days) - 1), np.eye(len(days) - 1)])
    contrast = contrast - share @ contrast
    k = len(days) - 1
    effect = contrast @ beta[:k]
    se = np.sqrt(np.einsum("ij,jk,ik->i", contrast, cov[:k, :k], contrast))
    counts = frame["weekday"].astype(str).value_counts()
    return pd.DataFrame({"effect": effect, "se": se, "n": [int(counts[d]) for d in days]},
                        index=pd.Index(days, name="weekday"))



def lag_study(questions: pd.DataFrame, answers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """:func:`weekday_effects` under each of :data:`LAG_SPECS`, by the spec's label."""
    return {label: weekday_effects(questions, answers, controls) for label, controls in LAG_SPECS.items()}


def control_change(questions: pd.DataFrame, answers: pd.DataFrame, draws: int = 200, seed: int = 0) -> pd.DataFrame:
    """How much holding lag and order fixed moves each day's ĥ: ``change`` (controlled minus
    within-question, votes) and ``se``, from a bootstrap over questions (both estimates move
    together on each draw, so the SE is that of the difference, not of either estimate)."""
    full = LAG_SPECS["+ lag and order"]
    change = weekday_effects(questions, answers, full)["effect"] - weekday_effects(questions, answers)["effect"]
    rng = np.random.default_rng(seed)
    ids = answers["question_id"].unique()
    by_question = {q: frame for q, frame in answers.groupby("question_id")}
    asked = questions.set_index("question_id")["created_at"]
    draws_out = []
    for _ in range(draws):
        picked = rng.choice(ids, size=len(ids), replace=True)
        # A question drawn twice enters as two questions, as a cluster bootstrap needs.
        sample = pd.concat([by_question[q].assign(question_id=k) for k, q in enumerate(picked)], ignore_index=True)
        sample_questions = pd.DataFrame({"question_id": np.arange(len(picked)), "created_at": asked[picked].to_numpy()})
        moved = (weekday_effects(sample_questions, sample, full)["effect"]
                 - weekday_effects(sample_questions, sample)["effect"])
        draws_out.append(moved.reindex(change.index))
    se = pd.concat(draws_out, axis=1).std(axis=1, ddof=1)
    return pd.DataFrame({"change": change, "se": se})


def lag_reading(study: dict[str, pd.DataFrame], change: pd.DataFrame) -> str:
    """The chapter's sentence on how much the controls move ĥ: the day that moves most, against
    the bootstrap SE of that change (:func:`control_change`)."""
    bare, controlled = study["within question"], study["+ lag and order"]
    day = change["change"].abs().idxmax()
    z = abs(change.loc[day, "change"]) / change.loc[day, "se"]
    moved = (f"holding answer lag and order fixed moves {day}'s ĥ from {bare.loc[day, 'effect']:+.2f} to "
             f"{controlled.loc[day, 'effect']:+.2f} votes, the largest change of any day, {z:.1f} times the "
             f"bootstrap SE of the change ({change.loc[day, 'se']:.2f})")
    # Seven days compared: the largest of seven changes needs about 2.7 SE to stand out at 5%.
    if z > 2.7:
        return (f"{moved}; even as the largest of seven, that stands out: a lag-blind ĥ would credit the weekday "
                "with part of what the lag does")
    return (f"{moved}; as the largest of seven changes it would need about 2.7 to stand out, so on a dump this "
            "small the control's effect is suggestive, not shown")
