"""Which few terms: sparse solvers (lasso path, STLSQ, forward), best-subset search
and model selection over candidate supports.
"""

from .select import (
    CRITERIA,
    EXACT_RSS,
    SELECTIONS,
    VALIDATIONS,
    Candidate,
    Splits,
    backward_prune,
    choose,
    ebic,
    identifiability,
    log_comb,
    pareto_front,
    score_candidates,
    small_sample,
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
    "CRITERIA", "Candidate", "EXACT_RSS", "Refit", "SELECTIONS", "SOLVERS", "Splits",
    "VALIDATIONS", "backward_prune", "best_subsets", "candidate_supports", "choose", "ebic",
    "forward_path", "identifiability", "lasso_path", "lasso_solutions", "log_comb",
    "pareto_front", "refit", "scale_columns", "score_candidates", "small_sample", "stlsq_path",
    "term_cap", "validation_error", "validation_splits",
]
