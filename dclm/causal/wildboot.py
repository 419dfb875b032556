"""The restricted wild cluster bootstrap (WCR) for few clusters: p-values, intervals, AR sets.

Introduced in chapter 2.

With a dozen clusters a cluster-robust t-test over-rejects: the CR1 variance is estimated from
G group sums and is too small exactly when the regressor concentrates in a few groups. The wild
cluster bootstrap with the null imposed (Cameron, Gelbach & Miller 2008; Roodman, MacKinnon,
Nielsen & Webb 2019, Stata's ``boottest``) keeps the groups' dependence and compares the
observed t with its bootstrap distribution. Everything here is linear in the hypothesised value
b, so each draw's t² is a ratio of two quadratics in b: one bootstrap serves every b (common
random numbers, so a set by test inversion does not jitter), at O(draws) cost per b.
"""

from __future__ import annotations

import math

import numpy as np

from dclm.causal.linear import group_sums
from dclm.causal.weakiv import ConfidenceSet, IVData, check_level, prepare_iv_data

WEIGHTS = ("rademacher", "webb")
# Webb's six-point distribution: mean 0, variance 1, and more distinct draws than ±1 when G is small.
_WEBB = np.sqrt(np.array([1.5, 1.0, 0.5, 0.5, 1.0, 1.5])) * np.array([-1, -1, -1, 1, 1, 1])


def bootstrap_weights(weights: str, draws: int, n_clusters: int, seed: int = 0) -> np.ndarray:
    """One weight per cluster and draw (draws × clusters): Rademacher ±1 or Webb's six points."""
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be 'rademacher' or 'webb', got {weights!r}")
    if not (isinstance(draws, (int, np.integer)) and draws >= 19):
        raise ValueError(f"draws={draws!r}: the bootstrap needs an integer number of draws of at least 19, e.g. 999")
    rng = np.random.default_rng(seed)
    if weights == "rademacher":
        return rng.integers(0, 2, (draws, n_clusters)) * 2.0 - 1.0
    return _WEBB[rng.integers(0, 6, (draws, n_clusters))]


class _Bootstrap:
    """Observed and bootstrap t² of the instrument's coefficient as functions of b.

    For y − b·x regressed on [1, exog, z] with H0 "coefficient of z = 0" imposed, the restricted
    residuals are ũ(b) = y_p − b·x_p (partialled). A draw's data are the restricted fit plus
    v_g·ũ; its coefficient numerator is Σ_g v_g·a_g and its cluster scores are
    v_g·a_g − (V·M)_g − q_g·(numerator / z'z), all linear in ũ and hence in b.
    """

    def __init__(self, data: IVData, v: np.ndarray):
        z, codes, g = data.z[:, 0], data.codes, data.n_clusters
        q = np.bincount(codes, z * z, g)
        d = group_sums(data.basis * z[:, None], codes, g)
        parts = []
        for u in (data.y, data.x):
            a = np.bincount(codes, z * u, g)
            m = group_sums(data.basis * u[:, None], codes, g) @ d.T
            boot_num = v @ a
            parts.append((a, boot_num, a - q * a.sum() / q.sum(), v * a - v @ m - np.outer(boot_num / q.sum(), q)))
        (a_y, self.boot_num_y, sy, boot_sy), (a_x, self.boot_num_x, sx, boot_sx) = parts
        self.sums, self.num_y, self.num_x = (a_y, a_x), a_y.sum(), a_x.sum()
        self.den = (sy @ sy, sx @ sy, sx @ sx)
        self.boot_den = ((boot_sy**2).sum(1), (boot_sx * boot_sy).sum(1), (boot_sx**2).sum(1))
        self.cr1 = g / (g - 1) * (data.n - 1) / (data.n - data.n_params)

    def iv_estimate(self) -> tuple[float, float]:
        """2SLS of y on x with instrument z (OLS when x is z) and its CR1 standard error."""
        a_y, a_x = self.sums
        beta = self.num_y / self.num_x
        return beta, math.sqrt(self.cr1 * np.sum((a_y - beta * a_x) ** 2)) / abs(self.num_x)

    def pvalues(self, b: np.ndarray) -> np.ndarray:
        """Share of draws with |t*(b)| ≥ |t(b)|, for each b (ties within rounding count)."""
        b = np.asarray(b, dtype=float)[:, None]
        yy, xy, xx = self.den
        observed = (self.num_y - b * self.num_x) ** 2 / (yy - 2 * b * xy + b * b * xx)
        byy, bxy, bxx = self.boot_den
        with np.errstate(divide="ignore", invalid="ignore"):
            boot = (self.boot_num_y - b * self.boot_num_x) ** 2 / (byy - 2 * b * bxy + b * b * bxx)
        return (boot >= observed * (1 - 1e-10)).mean(axis=1)


def _prepare(y, endog, instrument, exog, clusters, names) -> IVData:
    if clusters is None:
        raise ValueError("clusters: the wild cluster bootstrap needs clusters, one group label per row")
    data = prepare_iv_data(y, endog, instrument, exog, "cluster", clusters, names=names)
    if data.k != 1:
        raise ValueError(f"{names[2]} must be one column (a just-identified model), got {data.k}")
    return data


def wild_cluster_pvalue(y, regressor, exog=None, clusters=None, null: float = 0.0, weights: str = "webb",
                        draws: int = 999, seed: int = 0) -> float:
    """WCR bootstrap p-value of H0: the OLS coefficient of ``regressor`` equals ``null``.

    OLS of y on [1, exog, regressor]; the restricted model imposes the null; each draw multiplies
    the restricted residuals of cluster g by one weight v_g (``"rademacher"`` ±1 or ``"webb"``,
    Webb's six points, better below about 12 clusters) and recomputes the CR1 t-statistic
    (G/(G − 1)·(n − 1)/(n − K), as linearmodels). Returns the share of draws with |t*| ≥ |t|:
    reject at level α when it is ≤ α (choose draws so that α·(draws + 1) is an integer).
    Randomness comes from ``np.random.default_rng(seed)`` only. Introduced in chapter 2.
    """
    data = _prepare(y, regressor, regressor, exog, clusters, ("y", "regressor", "regressor", "exog"))
    if not (isinstance(null, (int, float, np.number)) and math.isfinite(null)):
        raise ValueError(f"null={null!r}: the hypothesised coefficient must be a finite number")
    boot = _Bootstrap(data, bootstrap_weights(weights, draws, data.n_clusters, seed))
    return float(boot.pvalues(np.array([null]))[0])


def _invert(data: IVData, level: float, weights: str, draws: int, seed: int, grid) -> ConfidenceSet:
    check_level(level)
    boot = _Bootstrap(data, bootstrap_weights(weights, draws, data.n_clusters, seed))
    if grid is None:
        # 2SLS (OLS when endog is the instrument) ± 10 CR1 standard errors, 201 points.
        with np.errstate(divide="ignore", invalid="ignore"):
            centre, se = boot.iv_estimate()
        if not (math.isfinite(centre) and math.isfinite(se) and se > 0):
            raise ValueError("grid: no default grid (the estimate or its standard error is not finite); "
                             "pass grid=, an increasing array of values to test")
        grid = centre + se * np.linspace(-10, 10, 201)
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1 or len(grid) < 2 or not np.isfinite(grid).all() or np.any(np.diff(grid) <= 0):
        raise ValueError("grid must be an increasing array of at least 2 finite values")
    alpha = 1 - level
    inside = boot.pvalues(grid) > alpha
    edges = np.flatnonzero(inside[1:] != inside[:-1])
    low, high = grid[edges], grid[edges + 1]
    # Bisection on all crossings at once; p is a step function of b, so this finds its jump.
    for _ in range(60):
        mid = (low + high) / 2
        same = (boot.pvalues(mid) > alpha) == inside[edges]
        low, high = np.where(same, mid, low), np.where(same, high, mid)
    crossings = (low + high) / 2
    pieces, start = [], (-math.inf if inside[0] else None)
    for edge, b in zip(edges, crossings, strict=True):
        if inside[edge]:
            pieces.append((start, b))
        else:
            start = b
    if inside[-1]:
        pieces.append((start, math.inf))
    return ConfidenceSet.from_pieces(pieces, level)


def wild_cluster_ar_set(y, endog, instrument, exog=None, clusters=None, level: float = 0.95,
                        weights: str = "webb", draws: int = 999, seed: int = 0, grid=None) -> ConfidenceSet:
    """Anderson–Rubin confidence set of a just-identified IV with WCR bootstrap p-values.

    For each beta0 the p-value is that of the instrument's coefficient in the regression of
    y − beta0·endog on [1, exog, instrument] (see :func:`wild_cluster_pvalue`), with the same
    bootstrap weights for every beta0; the set is {beta0 : p > 1 − level}. It is evaluated on
    ``grid`` (default: the 2SLS estimate ± 10 CR1 standard errors, 201 points) and its ends are
    refined between grid points by bisection. Approximation: a piece that reaches the grid's
    first or last point is reported as running to −inf or inf (kinds ``"ray"``, ``"two_rays"``,
    ``"real_line"``), and a gap or piece narrower than a grid step can be missed. Returns a
    :class:`~dclm.causal.weakiv.ConfidenceSet` in the units of the coefficient. Introduced in
    chapter 2.
    """
    data = _prepare(y, endog, instrument, exog, clusters, ("y", "endog", "instrument", "exog"))
    return _invert(data, level, weights, draws, seed, grid)


def wild_cluster_interval(y, regressor, exog=None, clusters=None, level: float = 0.95, weights: str = "webb",
                          draws: int = 999, seed: int = 0, grid=None) -> ConfidenceSet:
    """Confidence set for an OLS coefficient by inverting :func:`wild_cluster_pvalue`.

    The AR set with the regressor as its own instrument (the same mechanism, grid and
    approximation as :func:`wild_cluster_ar_set`; default grid: OLS ± 10 CR1 SEs). Usually an
    interval. Introduced in chapter 2.
    """
    data = _prepare(y, regressor, regressor, exog, clusters, ("y", "regressor", "regressor", "exog"))
    return _invert(data, level, weights, draws, seed, grid)
