"""Chapter 3: the Monday effect. SFT learns a confounded marker's data rate; DPO amplifies it.

Stack Exchange answers posted on Monday score higher (more people are around), not because
they are better. Prepend "Happy Monday!" to Monday answers and "Happy Friday!" to Friday
answers, fine-tune a policy on the answers (SFT), then on score preferences (DPO): DPO pushes
up whatever separates chosen from rejected answers, so it writes "Happy Monday!" more and
"Happy Friday!" less. The fix, DeconfoundLM: remove the weekday's effect from the scores
(``deconfound_outcome`` with weekday as a categorical confounder) before building pairs.

Models: ``base``, ``sft``, ``dpo`` (pairs from raw scores), ``dpo_deconfounded``. The steps:
``config`` (the settings), ``data`` (answers, ĥ(weekday), pairs and their balance), ``training``
(SFT and DPO per training seed, evaluation, the run), ``summary`` (rates across seeds, the
dose-response), ``arms`` (the ablation arms), ``realdump`` (ĥ with lag controls), ``claims``,
``readings`` (the page's interpretive sentences) and ``figures``.
"""

from dclm.experiments.monday.claims import LESSON, claims
from dclm.experiments.monday.config import BEER_RUN, MODELS, SEED_DOC, Config, config_for
from dclm.experiments.monday.data import adjust_scores, load_answers, pair_balance
from dclm.experiments.monday.figures import explore_dose, figures
from dclm.experiments.monday.summary import REPORTED, dose_response
from dclm.experiments.monday.training import evaluate_model, run

__all__ = [
    "BEER_RUN", "LESSON", "MODELS", "REPORTED", "SEED_DOC", "Config", "adjust_scores", "claims", "config_for",
    "dose_response", "evaluate_model", "explore_dose", "figures", "load_answers", "pair_balance", "run",
]
