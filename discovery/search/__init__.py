"""Which few terms: sparse solvers (lasso path, STLSQ, forward), best-subset search
and model selection over candidate supports.
"""

from .select import (
    CRITERIA,
    SELECTIONS,
    VALIDATIONS,
    Candidate,
    Splits,
    backward_prune,
    choose,
    identifiability,
    pareto_front,
    score_candidates,
    term_cap,
    validation_error,
    validation_splits,
)
from .sparse import (
    SOLVERS,
    Refit,
    candidate_supports,
    forward_path,
    lasso_path,
    lasso_solutions,
    refit,
    scale_columns,
    stlsq_path,
)
from .subset import best_subsets

__all__ = [
    "CRITERIA", "Candidate", "Refit", "SELECTIONS", "SOLVERS", "Splits", "VALIDATIONS",
    "backward_prune", "best_subsets", "candidate_supports", "choose", "forward_path",
    "identifiability", "lasso_path", "lasso_solutions", "pareto_front", "refit",
    "scale_columns", "score_candidates", "stlsq_path", "term_cap", "validation_error",
    "validation_splits",
]
