"""Two textbook data sets with a published IV answer, read from the copies that ship with linearmodels.

- :func:`load_card`: Card (1995), college proximity and the return to schooling (3,010 men,
  NLS Young Men, 1976); Wooldridge, *Introductory Econometrics*, Example 15.4.
- :func:`load_mroz`: Mroz (1987), married women's wages (the 428 in the labour force);
  Wooldridge, Example 15.1.

dclm does not ship them: ``linearmodels`` (a dependency) does. Their cards are in the data
appendix. Introduced in chapter 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class IVSpec:
    """One published IV regression: which columns play which part."""

    outcome: str
    endog: str
    instrument: str
    controls: tuple[str, ...] = ()


# Example 15.4: the controls Card uses in his Table 2, with region dummies reg662-reg669 (reg661 is the base).
CARD_SPEC = IVSpec("lwage", "educ", "nearc4",
                   ("exper", "expersq", "black", "smsa", "south", "smsa66", *(f"reg66{i}" for i in range(2, 10))))
# Example 15.1: the simple regression, father's schooling as the instrument for her own.
MROZ_SPEC = IVSpec("lwage", "educ", "fatheduc")


def load_card() -> pd.DataFrame:
    """Card's 3,010 men: log hourly wage (``lwage``), schooling (``educ``), ``nearc4`` (a four-year
    college in the county in 1966) and the controls of :data:`CARD_SPEC`."""
    from linearmodels.datasets import card

    return card.load()


def load_mroz() -> pd.DataFrame:
    """Mroz's married women in the labour force in 1975 (``inlf == 1``, 428 rows: only they have a wage)."""
    from linearmodels.datasets import mroz

    data = mroz.load()
    return data.loc[data["inlf"] == 1].reset_index(drop=True)
