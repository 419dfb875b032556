import numpy as np
import pytest
from scipy import stats

from dclm.eval.markers import marker_rates
from dclm.stats import mean_and_se, welch_p


def test_marker_rates_count_substrings_and_monday_share():
    rates = marker_rates([" Happy Monday!", " Happy Friday!", " Happy Monday! yes", " no marker"])
    assert rates == {"happy": 0.75, "monday": 0.5, "friday": 0.25, "monday_share": 2 / 3}
    assert marker_rates([" plain"])["monday_share"] is None
    with pytest.raises(ValueError, match="empty"):
        marker_rates([])


def test_summaries_across_runs():
    mean, se = mean_and_se([0.1, 0.2, None, 0.3])
    assert mean == pytest.approx(0.2) and se == pytest.approx(np.std([0.1, 0.2, 0.3], ddof=1) / np.sqrt(3))
    assert mean_and_se([None]) == (None, None)
    assert welch_p([0.1, 0.2, 0.15], [0.5, 0.6, 0.55]) == pytest.approx(
        stats.ttest_ind([0.1, 0.2, 0.15], [0.5, 0.6, 0.55], equal_var=False).pvalue)
    assert welch_p([0.1], [0.2, 0.3]) is None
