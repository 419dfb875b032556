"""Simulated data with known causal truth.

Chapter 1's listings: short rental titles T whose marker word ("affordable") is more common
when the confounder C (standardised nightly price) is low, with bookings
``y = g(T) + h(C) + noise``. Because we write g and h ourselves, the marker's causal effect
is known (zero by default) and every estimator can be checked against it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

PLACES = ("studio", "loft", "apartment", "cottage", "room", "flat")
AREAS = ("the old town", "the harbour", "the station", "the park", "the university", "the market")
STYLES = ("Cozy", "Bright", "Quiet", "Modern", "Charming", "Spacious")
AMENITIES = ("wifi", "a balcony", "parking", "a garden", "a fireplace")

# Bookings per month, the outcome's units; the baseline keeps simulated bookings positive-looking.
BASELINE_BOOKINGS = 10.0
# Fewest units a simulator draws: regressions with a handful of covariates need some rows.
MIN_N = 10
# Bookings gained per listed amenity: the part of g(T) that is not the marker.
AMENITY_EFFECT = 0.5


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def has_marker(texts: pd.Series | list[str], marker: str = "affordable") -> np.ndarray:
    """1 where a text contains ``marker`` as a whole word (case-insensitive), else 0."""
    pattern = re.compile(rf"\b{re.escape(marker)}\b", re.IGNORECASE)
    return np.fromiter((bool(pattern.search(t)) for t in texts), dtype=np.int64, count=len(texts))


def simulate_listings(n: int, rng: np.random.Generator, confounding: float = 1.0, marker_effect: float = 0.0,
                      price_effect: float = 2.0, noise_sd: float = 2.0, marker: str = "affordable") -> pd.DataFrame:
    """Rental listings whose marker word is confounded by price.

    Returns a DataFrame with one row per listing:

    - ``text``: the title T, e.g. "Cozy studio near the park, affordable, with wifi";
    - ``marker``: 1 if the title contains ``marker`` (read from the text);
    - ``confounder``: C, the standardised nightly price (mean 0, sd 1; higher = pricier);
    - ``amenities``: number of amenities the title lists;
    - ``quality``: g(T) = ``AMENITY_EFFECT``·amenities + ``marker_effect``·marker;
    - ``outcome``: y = ``BASELINE_BOOKINGS`` + g(T) − ``price_effect``·C + noise, in bookings
      per month.

    ``confounding`` is how strongly a low price makes hosts write ``marker``: the log-odds of
    the marker fall by ``confounding`` per standard deviation of price (0 makes the marker
    independent of price, so naive and adjusted estimates agree). ``marker_effect`` is the
    marker's true causal effect on bookings. Introduced in chapter 1.
    """
    if n < MIN_N:
        raise ValueError(f"n must be at least {MIN_N}, got {n}")
    if noise_sd < 0:
        raise ValueError(f"noise_sd must be non-negative, got {noise_sd}")
    price = rng.standard_normal(n)
    wants_marker = rng.random(n) < _sigmoid(-0.5 - confounding * price)
    n_amenities = rng.binomial(len(AMENITIES), 0.4, size=n)
    styles = rng.choice(STYLES, size=n)
    places = rng.choice(PLACES, size=n)
    areas = rng.choice(AREAS, size=n)
    texts = []
    for i in range(n):
        title = f"{styles[i]} {places[i]} near {areas[i]}"
        if wants_marker[i]:
            title += f", {marker}"
        if n_amenities[i]:
            chosen = rng.choice(AMENITIES, size=n_amenities[i], replace=False)
            title += " with " + (", ".join(chosen[:-1]) + " and " + chosen[-1] if len(chosen) > 1 else chosen[0])
        texts.append(title)
    text = pd.Series(texts, name="text")
    marker_flag = has_marker(text, marker)
    quality = AMENITY_EFFECT * n_amenities + marker_effect * marker_flag
    outcome = BASELINE_BOOKINGS + quality - price_effect * price + noise_sd * rng.standard_normal(n)
    return pd.DataFrame({
        "text": text,
        "marker": marker_flag,
        "confounder": price,
        "amenities": n_amenities,
        "quality": quality,
        "outcome": outcome,
    })


SETTINGS = ("orthogonal", "entangled")
ARROWS = ("text_to_popularity", "popularity_to_text")

# The book's causal graph for the news story (chapters 2, 5 and 6 draw it the same way):
#
#            team ─────────────> T (the headline names the team; s(T), its tone, does not depend on it)
#             │                  │
#             v                  v
#     Z (the team's region) ──> p (exposure) ──β──> y (clicks) <──1── s(T)
#                               ^                                     │
#                               └──────────── ρ (entanglement) ───────┘
#
# y counts clicks (a day's clicks, centred and in units of their noise SD); p is exposure, how
# often the site shows the headline. s(T) -> p: a headline's tone changes the exposure it gets
# (editors promote negative, breaking-news headlines). The team fixes Z (its home region) and
# part of p (its popularity), and its name is in the text: text <- team -> Z -> p -> y is a
# back-door path from the words to the clicks. Z stays a valid instrument because the team's
# name carries no tone (Z is independent of s(T)) and the team reaches y only through p.
# The estimand is g, the text's effect on y at fixed exposure (here g = s), because a
# generated headline will get its exposure from a new policy, not from the editors in the log.
# Optional parts: an unobserved U -> p and U -> y (``hidden_confounding``), an observed proxy
# p~ = p + error (``measurement_error``), and the two threats a news log faces: clicks from
# big-market fans beside exposure (Z -> y, ``direct_effect``) and logs that keep only shown
# headlines (selection on p, ``selected_share``, which breaks independence among kept rows).


def simulate_popularity(
    n: int,
    rng: np.random.Generator,
    setting: str = "entangled",
    beta: float = 0.1,
    instrument_strength: float = 1.0,
    entanglement: float = -0.5,
    noise_sd: float = 1.0,
    direct_effect: float = 0.0,
    instrument_confounding: float = 0.0,
    control_effect: float = 0.0,
    measurement_error: float = 0.0,
    hidden_confounding: float = 0.0,
    arrow: str = "text_to_popularity",
    selected_share: float = 1.0,
) -> pd.DataFrame:
    """Texts' causal scores, a popularity confounder, its instrument, and an outcome.

    Chapter 2's news story, drawn in the module's graph: a headline has a causal score s(T)
    (standard normal), the instrument Z is the team's home-region market size, and popularity

        p = (instrument_strength·Z + entanglement·s(T) + hidden_confounding·U + v) / sd,

    with v, U ~ N(0, 1) and sd its known population SD, so ``beta`` is in outcome units per SD
    of popularity. The outcome is a count, the headline's clicks (centred, in units of the
    noise SD), not a click rate: exposure raises it by ``beta`` per SD.

        y = s(T) + beta·p + hidden_confounding·U + direct_effect·Z + control_effect·w + noise.

    The estimand is g = 1, the effect of s(T) on y at fixed p, and beta, the effect of p.
    In ``"orthogonal"`` the entanglement is forced to 0; in ``"entangled"`` (negative by
    default: editors promote negative headlines) p moves with s(T), so OLS of y on p is biased.

    Columns: ``quality`` s(T), ``instrument`` Z, ``control`` w (0.5·Z + noise, an observed
    control), ``true_confounder`` p, ``confounder`` what the analyst observes (p plus
    ``measurement_error``·N(0, 1): a proxy), ``hidden`` U, ``outcome`` y.

    Mechanisms that defeat "adjust for popularity and the text" but not the instrument:
    ``measurement_error`` > 0 (a noisy proxy leaves part of p's effect to be credited to the
    text, which predicts p) and ``hidden_confounding`` > 0 (conditioning on p, a collider of
    s(T) and U, makes s(T) and U dependent). The three IV assumptions can each be broken:
    relevance by a tiny ``instrument_strength``, exclusion by ``direct_effect``, independence
    by ``instrument_confounding`` (Z moves s(T) too).

    The two threats a news site actually faces: ``direct_effect`` is fan interest beside
    exposure (fans in big markets reach headlines about their team by search, shares or direct
    visits, not only when the site shows them, so Z reaches y beside p; 2SLS is then off by
    direct_effect / first-stage slope), and ``selected_share``
    < 1 keeps only that share of headlines with the highest exposure p, as a log that records
    shown headlines only. Selecting on p, a common effect of Z and (entangled) s(T), makes Z
    and s(T) dependent among the kept rows: the instrument then reaches y through the text.
    The kept rows are returned in their original order (round(n·selected_share) of them).

    ``arrow="popularity_to_text"`` reverses the questioned arrow: p = (instrument_strength·Z +
    v)/sd and s(T) = base quality + entanglement·p, so the text is a mediator of popularity.
    Then 2SLS estimates p's total effect, beta + entanglement, not beta. Introduced in chapter 2.
    """
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
    if arrow not in ARROWS:
        raise ValueError(f"arrow must be one of {ARROWS}, got {arrow!r}")
    if n < MIN_N:
        raise ValueError(f"n must be at least {MIN_N}, got {n}")
    for name, value in (("measurement_error", measurement_error), ("noise_sd", noise_sd)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    if not 0 < selected_share <= 1 or round(n * selected_share) < MIN_N:
        raise ValueError(f"selected_share must be in (0, 1] and keep at least {MIN_N} of the n={n} rows, "
                         f"got {selected_share}")
    rho = entanglement if setting == "entangled" else 0.0
    # Draw order is fixed (new terms last), so adding a mechanism never reshuffles the others.
    instrument = rng.standard_normal(n)
    base_quality = rng.standard_normal(n) + instrument_confounding * instrument
    control = 0.5 * instrument + rng.standard_normal(n)
    popularity_noise = rng.standard_normal(n)
    outcome_noise = rng.standard_normal(n)
    hidden = rng.standard_normal(n)
    error = rng.standard_normal(n)
    a, c = instrument_strength, instrument_confounding
    if arrow == "text_to_popularity":
        quality = base_quality
        sd = np.sqrt(a**2 + rho**2 * (1 + c**2) + 2 * a * rho * c + hidden_confounding**2 + 1.0)
        popularity = (a * instrument + rho * quality + hidden_confounding * hidden + popularity_noise) / sd
    else:
        sd = np.sqrt(a**2 + hidden_confounding**2 + 1.0)
        popularity = (a * instrument + hidden_confounding * hidden + popularity_noise) / sd
        quality = base_quality + rho * popularity
    outcome = (quality + beta * popularity + hidden_confounding * hidden + direct_effect * instrument
               + control_effect * control + noise_sd * outcome_noise)
    frame = pd.DataFrame({
        "quality": quality,
        "instrument": instrument,
        "control": control,
        "true_confounder": popularity,
        "confounder": popularity + measurement_error * error,
        "hidden": hidden,
        "outcome": outcome,
    })
    if selected_share < 1:
        kept = np.sort(np.argsort(-popularity, kind="stable")[: round(n * selected_share)])
        frame = frame.iloc[kept].reset_index(drop=True)
    return frame


def simulate_headline_outcomes(teams: pd.Series, sentiment: np.ndarray, rng: np.random.Generator,
                               setting: str = "entangled", beta: float = 1.0, instrument_strength: float = 1.0,
                               entanglement: float = 2.0, noise_sd: float = 0.3,
                               regions: dict[str, float] | None = None,
                               measurement_error: float = 0.0, direct_effect: float = 0.0,
                               arrow: str = "text_to_popularity") -> pd.DataFrame:
    """Chapter 5's outcomes for real headlines: y = s(T) + beta·p + noise, with p instrumented by Z.

    The module's graph, headline by headline, team node included. Each team gets a home region
    (drawn with ``rng``) whose market size is the instrument Z; the team's popularity is
    ``instrument_strength·Z + 0.5·u`` (u: the team's own pull, a team -> p edge beside Z). The
    headline names its team, so Z is a function of the text's team name, not of its tone. A
    headline's raw exposure is its team's popularity (0 for headlines naming none) plus, in the
    ``"entangled"`` setting, ``-entanglement·s(T)`` (the text moves p: editors promote negative
    news) plus noise; p is that, standardised, so ``beta`` is in sentiment units per SD of
    exposure. y counts clicks. The estimand is g = s(T), the text's effect at fixed exposure.

    ``direct_effect`` δ adds δ·Z to y: clicks from big-market fans beside exposure, an exclusion
    violation. ``arrow="popularity_to_text"`` reverses the questioned arrow: exposure is the
    team's popularity plus noise, and then which headlines get written depends on it: the
    returned rows are a weighted resample (with replacement, weights ``exp(-entanglement·s·p)``)
    of the given headlines, so popular teams get more gloomy stories, s(T) depends on p, and Z
    reaches s(T) through p. Column ``row`` is the given headline each row is (``0..n-1`` in
    order for the default arrow).

    Columns: ``row, team, sentiment, region, instrument, team_popularity, popularity`` (the
    true p), ``observed_popularity`` (p + ``measurement_error``·N(0, 1), what an analyst logs;
    equal to p by default) and ``outcome``. The error is drawn last, so y does not depend on it.
    """
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
    if arrow not in ARROWS:
        raise ValueError(f"arrow must be one of {ARROWS}, got {arrow!r}")
    if not np.isfinite(measurement_error) or measurement_error < 0:
        raise ValueError(f"measurement_error must be a finite number >= 0, got {measurement_error}")
    regions = regions or {"Northport": 1.6, "Lakeside": 1.0, "Riverton": 0.6, "Highfield": 0.2,
                          "Westvale": -0.2, "Stonebridge": -0.6, "Eastmoor": -1.0, "Pinecrest": -1.6}
    teams = pd.Series(teams).fillna("").astype(str).reset_index(drop=True)
    sentiment = np.asarray(sentiment, dtype=float)
    names = sorted(t for t in teams.unique() if t)
    names_region = dict(zip(names, rng.choice(list(regions), size=len(names)), strict=True))
    team_pop = {t: instrument_strength * regions[names_region[t]] + 0.5 * rng.standard_normal() for t in names}
    region = teams.map(lambda t: names_region.get(t, ""))
    instrument = np.array([regions.get(r, 0.0) for r in region])
    popularity_team = teams.map(lambda t: team_pop.get(t, 0.0)).to_numpy(dtype=float)
    text_to_exposure = setting == "entangled" and arrow == "text_to_popularity"
    raw = popularity_team + (-entanglement * sentiment if text_to_exposure else 0.0) + \
        0.3 * rng.standard_normal(len(teams))
    popularity = (raw - raw.mean()) / raw.std()
    row = np.arange(len(teams))
    if arrow == "popularity_to_text":
        log_weight = -entanglement * sentiment * popularity
        weight = np.exp(log_weight - log_weight.max())
        row = np.sort(rng.choice(len(teams), size=len(teams), p=weight / weight.sum()))
        teams, sentiment, region = teams.iloc[row].reset_index(drop=True), sentiment[row], region.iloc[row]
        instrument, popularity_team, popularity = instrument[row], popularity_team[row], popularity[row]
    outcome = sentiment + beta * popularity + direct_effect * instrument + noise_sd * rng.standard_normal(len(teams))
    observed = popularity + measurement_error * rng.standard_normal(len(teams))
    return pd.DataFrame({"row": row, "team": teams, "sentiment": sentiment, "region": region.to_numpy(),
                         "instrument": instrument, "team_popularity": popularity_team, "popularity": popularity,
                         "observed_popularity": observed, "outcome": outcome})
