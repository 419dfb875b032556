"""Weak-instrument inference for one endogenous regressor: Anderson–Rubin tests and sets, effective F.

Introduced in chapter 2.

A first-stage F above 10 does not make the usual ±1.96 t-test trustworthy: Lee, McCrary, Moreira
& Porter (2022) show that a 5% t-test needs F > 104.7. The Anderson–Rubin (AR) test has the
right size however weak the instrument is, and inverting it gives a confidence set that may be
unbounded, which is the honest answer when the data cannot pin the effect down. Strength is
judged with Montiel Olea & Pflueger's (2013) effective F, which stays meaningful under
heteroskedasticity and clustering. With few clusters, cluster-robust standard errors are
themselves unreliable; :mod:`dclm.causal.wildboot` has the wild cluster bootstrap for that case
(Cameron, Gelbach & Miller 2008; Roodman, MacKinnon, Nielsen & Webb 2019).

Covariances follow :mod:`dclm.causal.linear` (linearmodels' ``debiased=True``): ``"unadjusted"``
divides the residual sum of squares by n − K, ``"robust"`` is HC1 (n / (n − K)), ``"cluster"`` is
CR1 (G / (G − 1) · (n − 1) / (n − K)), K counting the constant, the controls and the instruments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from dclm.causal.linear import cluster_codes, group_sums

COV_TYPES = ("unadjusted", "robust", "cluster")
# Montiel Olea & Pflueger (2013), one instrument: 5% test that the 2SLS Nagar bias exceeds 10% of
# the benchmark; the rule of thumb of Andrews, Stock & Sun's (2019) review ("23.1").
MOP_CRITICAL_VALUE_K1 = 23.1088
# Lee, McCrary, Moreira & Porter (2022): the first-stage F the ±1.96 t-test needs for 5% size.
LMMP_T_TEST_F = 104.7
# Points of the angle grid that inverts the AR test numerically (k > 1, robust or cluster).
_ANGLE_POINTS = 2001


@dataclass(frozen=True)
class ConfidenceSet:
    """A confidence set for a scalar coefficient: a union of closed pieces, ±inf allowed.

    ``kind`` is ``"interval"`` (one bounded piece), ``"two_rays"`` ((−inf, a] ∪ [b, inf)),
    ``"real_line"`` or ``"empty"``; rarely ``"ray"`` (one half-line: a knife edge in closed form, or
    a grid-based set open at one end) or ``"union"`` (several pieces: AR sets with k > 1 under
    robust covariance, or bootstrap sets).
    ``pieces`` are sorted ``(low, high)`` pairs in the coefficient's units. Introduced in chapter 2.
    """

    kind: str
    pieces: tuple[tuple[float, float], ...]
    level: float

    @classmethod
    def from_pieces(cls, pieces, level: float) -> ConfidenceSet:
        """The set made of ``pieces`` (sorted, non-overlapping), its ``kind`` worked out."""
        pieces = tuple((float(lo), float(hi)) for lo, hi in pieces)
        rays = len(pieces) == 2 and pieces[0][0] == -math.inf and pieces[1][1] == math.inf
        kind = ("empty" if not pieces else "real_line" if pieces == ((-math.inf, math.inf),)
                else ("interval" if all(map(math.isfinite, pieces[0])) else "ray") if len(pieces) == 1
                else "two_rays" if rays else "union")
        return cls(kind, pieces, float(level))

    @property
    def bounded(self) -> bool:
        """True when every piece has finite ends (the empty set is bounded)."""
        return all(math.isfinite(lo) and math.isfinite(hi) for lo, hi in self.pieces)

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the set (ends included)."""
        return any(lo <= value <= hi for lo, hi in self.pieces)

    def __str__(self) -> str:
        if not self.pieces:
            return "∅"
        parts = []
        for lo, hi in self.pieces:
            digits = 4
            # More digits until a narrow piece far from zero no longer prints as [a, a].
            while digits < 12 and lo != hi and _fmt(lo, digits) == _fmt(hi, digits):
                digits += 1
            parts.append(("(" if lo == -math.inf else "[") + f"{_fmt(lo, digits)}, {_fmt(hi, digits)}"
                         + (")" if hi == math.inf else "]"))
        return " ∪ ".join(parts)

    def format(self, decimals: int = 2) -> str:
        """The set with its finite ends to ``decimals`` places, e.g. ``"[0.96, 1.08]"``, for prose."""
        if not self.pieces:
            return "∅"

        def end(value: float) -> str:
            return ("-inf" if value < 0 else "inf") if math.isinf(value) else f"{value:.{decimals}f}"

        return " ∪ ".join(("(" if lo == -math.inf else "[") + f"{end(lo)}, {end(hi)}" + (")" if hi == math.inf else "]")
                          for lo, hi in self.pieces)

    def to_dict(self) -> dict:
        """JSON-friendly: infinite ends are written as None (the side says which sign)."""
        return {"kind": self.kind, "level": self.level, "text": str(self),
                "pieces": [[lo if math.isfinite(lo) else None, hi if math.isfinite(hi) else None]
                           for lo, hi in self.pieces]}


def _fmt(value: float, digits: int) -> str:
    return ("-inf" if value < 0 else "inf") if math.isinf(value) else f"{value:.{digits}g}"


def _matrix(value, name: str, n: int | None = None, ref: str = "y") -> np.ndarray:
    if isinstance(value, (pd.Series, pd.DataFrame)):
        value = value.to_numpy()
    try:
        values = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric; encode categories first (e.g. pandas.get_dummies)") from None
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty vector or matrix, got shape {values.shape}")
    if n is not None and values.shape[0] != n:
        raise ValueError(f"{name} has {values.shape[0]} rows but {ref} has {n}; pass arrays of equal length")
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise ValueError(f"{name} contains NaN or inf (first at row {row}); drop or impute those rows first")
    return values


def check_level(level: float) -> None:
    """Raise a ValueError unless ``level`` is a confidence level strictly between 0 and 1."""
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level={level!r}: the confidence level must lie strictly between 0 and 1, e.g. 0.95")


@dataclass(frozen=True)
class IVData:
    """Validated data with the constant and controls partialled out (Frisch–Waugh–Lovell).

    ``y``, ``x`` (n,) and ``z`` (n × k) are residuals on ``basis``, an orthonormal basis of
    ``[1, exog]`` (n × m); ``codes`` are cluster codes 0..G−1 (None unless clustering).
    """

    y: np.ndarray | None
    x: np.ndarray
    z: np.ndarray
    basis: np.ndarray
    codes: np.ndarray | None
    n_clusters: int | None

    n = property(lambda self: self.x.shape[0])
    k = property(lambda self: self.z.shape[1])

    n_params = property(lambda self: self.basis.shape[1] + self.k)  # K: constant, controls, instruments


def prepare_iv_data(y, endog, instruments, exog=None, cov: str = "robust", clusters=None, *,
                    names: tuple[str, str, str, str] = ("y", "endog", "instruments", "exog")) -> IVData:
    """Validate the arguments (``names`` are what error messages call them) and partial out.

    ``y`` may be None (first-stage quantities only). Raises a one-line ValueError naming the
    argument for a bad ``cov``, mismatched lengths, NaN or inf, collinear or constant columns.
    """
    if cov not in COV_TYPES:
        raise ValueError(f"cov must be 'unadjusted', 'robust' or 'cluster', got {cov!r}")
    y_name, x_name, z_name, w_name = names
    if clusters is not None and cov != "cluster":
        raise ValueError(f"clusters were given but cov is {cov!r}; use cov='cluster' or drop clusters")
    if cov == "cluster" and clusters is None:
        raise ValueError("clusters: cov='cluster' needs clusters, one group label per row")
    ref = y_name if y is not None else x_name
    y_mat = None if y is None else _matrix(y, y_name)
    if y_mat is not None and y_mat.shape[1] != 1:
        raise ValueError(f"{y_name} must be one column, got {y_mat.shape[1]}")
    x = _matrix(endog, x_name, None if y_mat is None else y_mat.shape[0], ref)
    if x.shape[1] != 1:
        raise ValueError(f"{x_name} must be one column (one endogenous regressor), got {x.shape[1]}")
    n = x.shape[0]
    z = _matrix(instruments, z_name, n, ref)
    w = np.ones((n, 1)) if exog is None else np.column_stack([np.ones(n), _matrix(exog, w_name, n, ref)])
    codes, n_clusters = cluster_codes(clusters, n, ref) if cov == "cluster" else (None, None)
    if n <= w.shape[1] + z.shape[1] + 1:
        raise ValueError(f"{ref} has {n} rows, too few for {w.shape[1] + z.shape[1] + 1} coefficients")
    basis, r = np.linalg.qr(w)
    diag = np.abs(np.diag(r))
    if diag.min() <= 1e-10 * diag.max():
        raise ValueError(f"{w_name}: the controls are collinear with each other or with the constant; "
                         "drop the redundant column")
    zp = z - basis @ (basis.T @ z)
    # Scale-free rank test: each partialled instrument against its own raw size.
    scaled = zp / np.maximum(np.sqrt((z**2).sum(0)), 1e-300)
    if np.linalg.eigvalsh(scaled.T @ scaled)[0] < 1e-10:
        raise ValueError(f"{z_name}: an instrument is constant or collinear with the other instruments or "
                         f"with {w_name}; drop it")
    yp = None if y_mat is None else y_mat[:, 0] - basis @ (basis.T @ y_mat[:, 0])
    xp = x[:, 0] - basis @ (basis.T @ x[:, 0])
    return IVData(yp, xp, zp, basis, codes, n_clusters)


def _cov_block(data: IVData, zz_inv: np.ndarray, ea: np.ndarray, eb: np.ndarray, cov: str) -> np.ndarray:
    """Covariance of the OLS coefficients on ``data.z`` of two targets with residuals ea, eb."""
    n, q = data.n, data.n_params
    if cov == "unadjusted":
        return zz_inv * (ea @ eb / (n - q))
    if cov == "robust":
        meat = (data.z * (ea * eb)[:, None]).T @ data.z
        return zz_inv @ meat @ zz_inv * (n / (n - q))
    g = data.n_clusters
    sa = group_sums(data.z * ea[:, None], data.codes, g)
    sb = group_sums(data.z * eb[:, None], data.codes, g)
    # Symmetrised: only the sum of the two cross blocks enters V(b) = Vyy − 2b·Vxy + b²·Vxx.
    meat = (sa.T @ sb + sb.T @ sa) / 2
    return zz_inv @ meat @ zz_inv * (g / (g - 1)) * ((n - 1) / (n - q))


def _critical_value(data: IVData, cov: str, level: float) -> float:
    if cov == "unadjusted":
        return float(stats.f.ppf(level, data.k, data.n - data.n_params))
    return float(stats.chi2.ppf(level, data.k) / data.k)


def anderson_rubin_test(y, endog, instruments, beta0: float, exog=None, cov: str = "robust",
                        clusters=None) -> dict:
    """Anderson–Rubin test of H0: the coefficient of ``endog`` equals ``beta0``.

    Regresses y − beta0·endog on the instruments, the controls ``exog`` and a constant, and tests
    that the instruments' coefficients are all zero. ``statistic`` is that Wald statistic divided
    by k, the number of instruments (an F form; the Wald statistic itself equals linearmodels'
    under ``debiased=True``). Reference distribution (``df`` = (k, df2)): F(k, n − K) for
    ``"unadjusted"``, exact under normal homoskedastic errors; chi2(k)/k, i.e. F(k, inf), for
    ``"robust"`` and ``"cluster"`` (linearmodels' ``wald_test`` p-value). With few clusters prefer
    :func:`dclm.causal.wildboot.wild_cluster_ar_set`. Returns ``{"statistic", "pvalue", "df",
    "beta0", "cov"}``. Introduced in chapter 2.
    """
    if not (isinstance(beta0, (int, float, np.number)) and math.isfinite(beta0)):
        raise ValueError(f"beta0={beta0!r}: the hypothesised coefficient must be a finite number")
    data = prepare_iv_data(y, endog, instruments, exog, cov, clusters)
    target = data.y - beta0 * data.x
    zz_inv = np.linalg.inv(data.z.T @ data.z)
    coef = zz_inv @ (data.z.T @ target)
    resid = target - data.z @ coef
    wald = float(coef @ np.linalg.solve(_cov_block(data, zz_inv, resid, resid, cov), coef))
    k, df2 = data.k, data.n - data.n_params
    statistic = wald / k
    if cov == "unadjusted":
        pvalue, df = float(stats.f.sf(statistic, k, df2)), (k, df2)
    else:
        pvalue, df = float(stats.chi2.sf(wald, k)), (k, math.inf)
    return {"statistic": statistic, "pvalue": pvalue, "df": df, "beta0": float(beta0), "cov": cov}


def _reduced_form(data: IVData, cov: str):
    """π_y, π_x (reduced-form coefficients on z) and the blocks V_yy, V_xy, V_xx of their covariance."""
    zz = data.z.T @ data.z
    zz_inv = np.linalg.inv(zz)
    pi_y, pi_x = zz_inv @ (data.z.T @ data.y), zz_inv @ (data.z.T @ data.x)
    e_y, e_x = data.y - data.z @ pi_y, data.x - data.z @ pi_x
    blocks = [_cov_block(data, zz_inv, a, b, cov) for a, b in ((e_y, e_y), (e_x, e_y), (e_x, e_x))]
    return zz, pi_y, pi_x, blocks


def _quadratic_set(a: float, b: float, c: float, scale: float, level: float) -> ConfidenceSet:
    """The set {t : a·t² + b·t + c ≤ 0}; ``scale`` sizes a that counts as zero."""
    inf = math.inf
    if abs(a) <= 1e-12 * scale:  # knife edge: the statistic's limit at ±inf equals the critical value
        if b == 0:
            return ConfidenceSet.from_pieces([(-inf, inf)] if c <= 0 else [], level)
        return ConfidenceSet.from_pieces([(-inf, -c / b)] if b > 0 else [(-c / b, inf)], level)
    disc = b * b - 4 * a * c
    if disc < 0:
        return ConfidenceSet.from_pieces([] if a > 0 else [(-inf, inf)], level)
    # The stable form of the quadratic formula: no cancellation when b² ≫ 4ac.
    half = -0.5 * (b + math.copysign(math.sqrt(disc), b))
    r1, r2 = sorted((half / a, c / half)) if half != 0 else (0.0, 0.0)
    return ConfidenceSet.from_pieces([(r1, r2)] if a > 0 else [(-inf, r1), (r2, inf)], level)


def anderson_rubin_set(y, endog, instruments, exog=None, cov: str = "robust", clusters=None,
                       level: float = 0.95) -> ConfidenceSet:
    """The values beta0 that :func:`anderson_rubin_test` does not reject at 1 − ``level``.

    The statistic is a ratio in beta0: (π_y − b·π_x)' V(b)⁻¹ (π_y − b·π_x) / k with the reduced-form
    coefficients π_y, π_x of y and endog on the instruments (controls partialled out) and their
    joint covariance, V(b) = V_yy − 2b·V_xy + b²·V_xx. For one instrument (any ``cov``) and for
    ``"unadjusted"`` (any k) the set is a quadratic inequality, solved in closed form: an interval,
    two rays, the real line, or (k > 1: the instruments disagree) the empty set. For k > 1 under
    ``"robust"`` or ``"cluster"`` it is inverted numerically: the statistic on a grid of 2001
    angles θ with b = centre + scale·tan θ (centre, scale: 2SLS and its standard error), which
    covers the whole line, the ends exactly (the statistic tends to the first-stage Wald / k);
    pieces are refined by brentq, so a piece narrower than one grid step can be missed.
    Returns a :class:`ConfidenceSet` in the units of the coefficient. Introduced in chapter 2.
    """
    check_level(level)
    data = prepare_iv_data(y, endog, instruments, exog, cov, clusters)
    crit = _critical_value(data, cov, level)
    zz, pi_y, pi_x, (v_yy, v_xy, v_xx) = _reduced_form(data, cov)
    if data.k == 1 or cov == "unadjusted":
        # N(b) = d'ZZd and D(b) = tr(V(b)·ZZ) with d = π_y − b·π_x; stat = N/D in both cases.
        a_yy, a_xy, a_xx = pi_y @ zz @ pi_y, pi_x @ zz @ pi_y, pi_x @ zz @ pi_x
        t_yy, t_xy, t_xx = (np.trace(v @ zz) for v in (v_yy, v_xy, v_xx))
        return _quadratic_set(a_xx - crit * t_xx, -2 * (a_xy - crit * t_xy), a_yy - crit * t_yy,
                              abs(a_xx) + crit * abs(t_xx), level)

    def stat(b):
        d = pi_y - b * pi_x
        return d @ np.linalg.solve(v_yy - 2 * b * v_xy + b * b * v_xx, d) / data.k

    centre = float(pi_x @ zz @ pi_y / (pi_x @ zz @ pi_x))
    weights = zz @ pi_x / (pi_x @ zz @ pi_x)
    scale = math.sqrt(max(weights @ (v_yy - 2 * centre * v_xy + centre**2 * v_xx) @ weights, 0.0)) or 1.0
    theta = np.linspace(-math.pi / 2, math.pi / 2, _ANGLE_POINTS)
    cos, sin = np.cos(theta), np.sin(theta)
    bcos = centre * cos + scale * sin  # b·cos θ: finite at θ = ±π/2, where b itself is ±inf
    d = cos[:, None] * pi_y - bcos[:, None] * pi_x
    v = (cos**2)[:, None, None] * v_yy - (2 * cos * bcos)[:, None, None] * v_xy + (bcos**2)[:, None, None] * v_xx
    inside = np.einsum("ij,ij->i", d, np.linalg.solve(v, d[:, :, None])[:, :, 0]) / data.k <= crit
    pieces, start = [], (-math.inf if inside[0] else None)
    for i in np.flatnonzero(inside[1:] != inside[:-1]):
        low, high = (centre + scale * math.tan(t) for t in theta[i:i + 2])
        f_low, f_high = stat(low) - crit, stat(high) - crit
        # A sign that rounding flipped between the grid's form and stat's: keep the grid point.
        root = (optimize.brentq(lambda b: stat(b) - crit, low, high, xtol=1e-13, rtol=1e-13)
                if f_low * f_high < 0 else (low if abs(f_low) < abs(f_high) else high))
        pieces, start = (pieces + [(start, root)], None) if inside[i] else (pieces, root)
    if inside[-1]:
        pieces.append((start, math.inf))
    return ConfidenceSet.from_pieces(pieces, level)


def effective_f(endog, instruments, exog=None, cov: str = "robust", clusters=None) -> float:
    """Montiel Olea & Pflueger's (2013) effective first-stage F statistic (dimensionless).

    With endog and the instruments Z partialled on the constant and ``exog``, π̂ the first-stage
    coefficients and V̂ their ``cov`` covariance (same corrections as the module's):
    F_eff = π̂'(Z'Z)π̂ / tr(V̂·Z'Z), MOP's π̂'Qπ̂ / tr(ŜQ) with Ŝ = n·V̂ and Q = Z'Z/n, times n.
    Under ``"unadjusted"`` it is the classical partial F, RSS / (n − K) in the denominator (the
    ``first_stage_f`` of :func:`dclm.causal.iv.fit_2sls`); with one instrument it is the squared
    robust (or clustered) t-statistic. Compare it with :data:`MOP_CRITICAL_VALUE_K1` (k = 1).
    Introduced in chapter 2.
    """
    data = prepare_iv_data(None, endog, instruments, exog, cov, clusters)
    zz = data.z.T @ data.z
    zz_inv = np.linalg.inv(zz)
    pi = zz_inv @ (data.z.T @ data.x)
    resid = data.x - data.z @ pi
    return float(pi @ zz @ pi / np.trace(_cov_block(data, zz_inv, resid, resid, cov) @ zz))


def weak_iv_coverage(strengths, n: int = 200, reps: int = 500, beta: float = 1.0, rng=None,
                     level: float = 0.95) -> dict:
    """Known-truth Monte Carlo of the 2SLS Wald interval against the AR set, by instrument strength.

    Model (just identified, homoskedastic normal): z ~ N(0, 1), x = a·z + v, y = beta·x + u with
    corr(u, v) = 0.8 and unit variances, fresh draws for each strength a in ``strengths``. For each
    a: the mean and median first-stage F, the coverage of the 2SLS Wald interval (unadjusted SE,
    normal quantile), the coverage of the AR set (unadjusted, F(1, n − 2), so exact here) and the
    share of AR sets that are unbounded (exactly those with F below the AR critical value).
    Closed forms over all reps at once: no regression per draw. ``rng`` is a seed or a NumPy
    Generator (None: seed 0). Returns lists keyed ``strength, mean_f, median_f, t_coverage,
    ar_coverage, ar_unbounded_share`` and ``reps, n, level``. Introduced in chapter 2.
    """
    strengths = _matrix(np.atleast_1d(strengths), "strengths")
    if strengths.shape[1] != 1:
        raise ValueError(f"strengths must be a flat list of numbers, got shape {strengths.shape}")
    for name, value, low in (("n", n, 4), ("reps", reps, 1)):
        if not (isinstance(value, (int, np.integer)) and value >= low):
            raise ValueError(f"{name}={value!r}: must be an integer of at least {low}")
    if not (isinstance(beta, (int, float)) and math.isfinite(beta)):
        raise ValueError(f"beta={beta!r}: the true effect must be a finite number")
    check_level(level)
    rng = np.random.default_rng(0 if rng is None else rng)
    t_crit, ar_crit = stats.norm.ppf(0.5 + level / 2), stats.f.ppf(level, 1, n - 2)
    rows = []
    for a in strengths[:, 0]:
        z, u, e = (rng.standard_normal((reps, n)) for _ in range(3))
        x = a * z + 0.8 * u + 0.6 * e
        y = beta * x + u
        zc, xc, yc = (m - m.mean(axis=1, keepdims=True) for m in (z, x, y))
        szz, szx, szy = (zc * zc).sum(1), (zc * xc).sum(1), (zc * yc).sum(1)
        sxx, sxy, syy = (xc * xc).sum(1), (xc * yc).sum(1), (yc * yc).sum(1)
        first_f = (szx**2 / szz) / ((sxx - szx**2 / szz) / (n - 2))
        b_iv = szy / szx
        se = np.sqrt((syy - 2 * b_iv * sxy + b_iv**2 * sxx) / (n - 2) * szz / szx**2)
        # AR at the truth: y − beta·x is u, so the test regresses u on z.
        uc = u - u.mean(axis=1, keepdims=True)
        szu = (zc * uc).sum(1)
        ar = (szu**2 / szz) / (((uc * uc).sum(1) - szu**2 / szz) / (n - 2))
        rows.append((a, first_f.mean(), np.median(first_f), np.mean(np.abs(b_iv - beta) <= t_crit * se),
                     np.mean(ar <= ar_crit), np.mean(first_f <= ar_crit)))
    keys = ("strength", "mean_f", "median_f", "t_coverage", "ar_coverage", "ar_unbounded_share")
    return {**{key: [float(row[i]) for row in rows] for i, key in enumerate(keys)},
            "reps": int(reps), "n": int(n), "level": float(level)}
