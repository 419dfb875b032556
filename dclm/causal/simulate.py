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


def simulate_listings(
    n: int,
    rng: np.random.Generator,
    confounding: float = 1.0,
    marker_effect: float = 0.0,
    price_effect: float = 2.0,
    noise_sd: float = 2.0,
    marker: str = "affordable",
) -> pd.DataFrame:
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
) -> pd.DataFrame:
    """Texts' causal scores, a popularity confounder, its instrument, and an outcome.

    Chapter 2's news story: a headline about a team has a causal score s(T) (how good the
    text is), the team has a popularity p, and popularity is driven by the instrument Z, the
    home region's market size. The outcome (clicks) is

        y = s(T) + beta·p + direct_effect·Z + control_effect·w + noise.

    Columns: ``quality`` s(T) (standard normal), ``instrument`` Z (standard normal),
    ``control`` w (an observed control, e.g. the season, correlated with Z: 0.5·Z + noise),
    ``confounder`` p, ``outcome`` y. Popularity is

        p = (instrument_strength·Z + entanglement·s(T) + v) / sd,    v ~ N(0, 1),

    scaled by its known population sd so ``beta`` is in outcome units per SD of popularity.
    In the ``"orthogonal"`` setting the entanglement is forced to 0 (p independent of s);
    in ``"entangled"`` p moves with the text's own score (negative by default: popular teams
    get more negative headlines), so OLS of y on p is biased and only the instrument helps.

    The three IV assumptions can each be broken: relevance by a tiny
    ``instrument_strength``, exclusion by ``direct_effect`` (Z moves y other than through p),
    independence by ``instrument_confounding`` (Z moves s(T) too). ``control_effect`` makes Z
    a valid instrument only once w is controlled for. Introduced in chapter 2.
    """
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
    if n < MIN_N:
        raise ValueError(f"n must be at least {MIN_N}, got {n}")
    rho = entanglement if setting == "entangled" else 0.0
    instrument = rng.standard_normal(n)
    quality = rng.standard_normal(n) + instrument_confounding * instrument
    control = 0.5 * instrument + rng.standard_normal(n)
    sd = np.sqrt(instrument_strength**2 + rho**2 * (1 + instrument_confounding**2)
                 + 2 * instrument_strength * rho * instrument_confounding + 1.0)
    popularity = (instrument_strength * instrument + rho * quality + rng.standard_normal(n)) / sd
    outcome = (quality + beta * popularity + direct_effect * instrument + control_effect * control
               + noise_sd * rng.standard_normal(n))
    return pd.DataFrame({
        "quality": quality,
        "instrument": instrument,
        "control": control,
        "confounder": popularity,
        "outcome": outcome,
    })


def simulate_headline_outcomes(teams: pd.Series, sentiment: np.ndarray, rng: np.random.Generator,
                               setting: str = "entangled", beta: float = 1.0, instrument_strength: float = 1.0,
                               entanglement: float = 2.0, noise_sd: float = 0.3,
                               regions: dict[str, float] | None = None) -> pd.DataFrame:
    """Chapter 5's outcomes for real headlines: y = s(T) + beta·p + noise, with p instrumented by Z.

    Each team gets a home region (drawn with ``rng``) whose market size is the instrument Z;
    the team's popularity is ``instrument_strength·Z + 0.5·u``. A headline's raw popularity is
    its team's (0 for headlines naming none) plus, in the ``"entangled"`` setting,
    ``-entanglement·s(T)`` (editors promote negative news, headline by headline) plus noise;
    p is that, standardised. So ``beta`` is in sentiment units per SD of popularity. Columns:
    ``team, sentiment, region, instrument, team_popularity, popularity, outcome``.
    """
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
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
    raw = popularity_team + (-entanglement * sentiment if setting == "entangled" else 0.0) + \
        0.3 * rng.standard_normal(len(teams))
    popularity = (raw - raw.mean()) / raw.std()
    outcome = sentiment + beta * popularity + noise_sd * rng.standard_normal(len(teams))
    return pd.DataFrame({"team": teams, "sentiment": sentiment, "region": region, "instrument": instrument,
                         "team_popularity": popularity_team, "popularity": popularity, "outcome": outcome})
