"""Routes to a formula: the plain library fit, then transforms, power laws, factors,
grown monomials, rational laws, inner constants and saturating terms, compared on
the original target.
"""

from .compare import exact_enough, other_routes, replication, route_bic, route_refit
from .factors import common_factors, evaluate_shape, proportional
from .grown import grown_monomials
from .inner import FAMILIES, Family, inner_fit
from .library import (
    PRUNE_BEST,
    Settings,
    closed_forms,
    evaluate_library,
    expressions,
    fit_library,
    fit_metrics,
    front_frame,
    model_from_expression,
    term_cost,
    training_metrics,
)
from .powers import power_laws
from .rational import rational_fit
from .saturating import Saturation, saturating_terms
from .transforms import TRANSFORMS

__all__ = [
    "FAMILIES", "Family", "PRUNE_BEST", "Saturation", "Settings", "TRANSFORMS", "closed_forms",
    "common_factors", "evaluate_library", "evaluate_shape", "exact_enough", "expressions",
    "fit_library", "fit_metrics", "front_frame", "grown_monomials", "inner_fit",
    "model_from_expression", "other_routes", "power_laws", "proportional", "rational_fit",
    "replication", "route_bic", "route_refit", "saturating_terms", "term_cost",
    "training_metrics",
]
