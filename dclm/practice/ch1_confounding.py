"""Checks of practice notebook 1: the naive and price-adjusted estimates, and the omitted-variable bias.
"""

from __future__ import annotations

import pandas as pd

from dclm.practice.feedback import Feedback, compare, slope


def _listing_fits(data: pd.DataFrame):
    from dclm.causal.linear import ols

    naive = ols(data["outcome"], data[["marker"]]).params
    adjusted = ols(data["outcome"], data[["marker", "confounder"]]).params
    return naive, adjusted


def naive_estimate(answer, data: pd.DataFrame) -> Feedback:
    """The naive effect of the marker: mean bookings with it minus mean bookings without it."""
    naive, adjusted = _listing_fits(data)
    with_word = data.loc[data["marker"] == 1, "outcome"].mean()
    return compare("naive", answer, naive["marker"], [
        (adjusted["marker"], "that is the price-adjusted estimate; the naive one ignores price: "
                             "compare mean bookings with and without the word, nothing else."),
        (with_word, "that is the mean bookings of titles with the word; subtract the mean of "
                    "titles without it."),
    ], f"the naive estimate is {naive['marker']:+.3f} bookings a month.")


def adjusted_estimate(answer, data: pd.DataFrame) -> Feedback:
    """The marker's coefficient in a regression of bookings on the marker and price."""
    from dclm.causal.linear import ols

    naive, adjusted = _listing_fits(data)
    se = ols(data["outcome"], data[["marker", "confounder"]]).std_errors["marker"]
    return compare("adjusted", answer, adjusted["marker"], [
        (naive["marker"], "that is the naive estimate: price is not held fixed. Put the price "
                          "column in the regression next to the marker."),
        (adjusted["confounder"], "that is the coefficient of price; report the marker's "
                                 "coefficient from the same regression."),
        (adjusted["const"], "that is the intercept; report the marker's coefficient."),
    ], f"holding price fixed, the word's estimated effect is {adjusted['marker']:+.3f} (robust SE "
       f"{se:.3f}).")


def omitted_variable_bias(answer, data: pd.DataFrame) -> Feedback:
    """Naive minus adjusted: price's coefficient times the price gap between marked and unmarked."""
    naive, adjusted = _listing_fits(data)
    gap = slope(data["confounder"], data["marker"])
    return compare("bias", answer, naive["marker"] - adjusted["marker"], [
        (adjusted["confounder"], "that is price's effect on bookings alone; multiply it by how "
                                 "much cheaper (in price SDs) titles with the word are."),
        (gap, "that is how much price differs between titles with and without the word; multiply "
              "it by price's effect on bookings (its coefficient in the adjusted regression)."),
        (naive["marker"], "that is the naive estimate itself; the bias is naive minus adjusted."),
    ], f"the bias is {naive['marker'] - adjusted['marker']:+.3f}: exactly naive minus adjusted, the "
       "omitted-variable-bias formula.")
