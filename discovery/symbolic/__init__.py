"""From numbers to formulas: closed-form recognition and snapping, simplification,
and the check of a formula against a known truth.
"""

from .check import CheckResult, check
from .constants import (
    ALPHA,
    ClosedForm,
    candidate_table,
    chance_matches,
    consistent_with,
    recognise,
)
from .evaluate import evaluate_terms, term_columns
from .simplify import round_floats, round_significant, simplify_expression
from .snap import closed_forms, snap_floats, snap_parameters

__all__ = [
    "ALPHA", "CheckResult", "ClosedForm", "candidate_table", "chance_matches", "check",
    "closed_forms", "consistent_with", "evaluate_terms", "recognise", "round_floats",
    "round_significant", "simplify_expression", "snap_floats", "snap_parameters",
    "term_columns",
]
