"""dclm: align language models with observational data without teaching them confounders.

The teaching package behind the dclm book. Chapters stay thin; every number they print comes
from a function here. See ``dclm.experiments`` for the experiments and ``dclm run --list``.
"""

__version__ = "0.1.0"
