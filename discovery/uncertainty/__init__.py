"""How sure: resampled re-selection (bootstrap), intervals and diagnostics, and the
verdict on every fit.
"""

from .assess import FitState, assess, constant_interval, constant_intervals
from .bootstrap import Bootstrap, bootstrap_counts, bootstrap_selection, candidate_columns
from .verdict import VERDICTS, signal_test, verdict

__all__ = [
    "Bootstrap", "FitState", "VERDICTS", "assess", "bootstrap_counts", "bootstrap_selection",
    "candidate_columns", "constant_interval", "constant_intervals", "signal_test", "verdict",
]
