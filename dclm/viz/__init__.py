"""One figure style for the whole book: a fixed, colour-blind-safe colour per method and model.

Every chapter draws through these functions so "naive" is the same orange on every page.
Styles are applied per figure (``plt.rc_context``), never globally at import.
"""

from dclm.viz.charts import band_lines, bars_with_errors, dose_response, grouped_rates, lines, seed_bars
from dclm.viz.dags import (
    BOOK_DIAGRAMS,
    canary_dag,
    deconfoundlm_pipeline,
    diagram_problems,
    draw_dag,
    listings_dag,
    news_dag,
)
from dclm.viz.estimates import (
    dot_whisker,
    dot_whisker_panels,
    estimate_distributions,
    estimate_sweep,
    scatter_by_group,
    sensitivity_contour,
    weak_instrument_bias,
)
from dclm.viz.rewards import advantage_map, lambda_choices, lambda_curves, reward_scale, scale_curves
from dclm.viz.style import (
    COLORS,
    OKABE_ITO,
    STYLE,
    color,
    fit_category_labels,
    overlapping_tick_labels,
    text_renderer,
)

__all__ = ["BOOK_DIAGRAMS", "COLORS", "OKABE_ITO", "STYLE", "advantage_map", "band_lines", "bars_with_errors", "canary_dag", "color", "deconfoundlm_pipeline", "diagram_problems", "dose_response", "dot_whisker", "dot_whisker_panels", "draw_dag", "estimate_distributions", "estimate_sweep", "fit_category_labels", "grouped_rates", "lambda_choices", "lambda_curves", "lines", "listings_dag", "news_dag", "overlapping_tick_labels", "reward_scale", "scale_curves", "scatter_by_group", "seed_bars", "sensitivity_contour", "text_renderer", "weak_instrument_bias"]
