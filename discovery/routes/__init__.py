"""Routes to a formula: the plain library fit, then transforms, power laws, factors,
grown monomials, rational laws, inner constants and saturating terms, compared on
the original target.
"""

from .compare import exact_enough, other_routes, replication, route_bic, route_refit
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
from .rational import rational_fit
from .saturating import Saturation, saturating_terms
from .shapes import TRANSFORMS, common_factors, power_laws

__all__ = [
    "FAMILIES", "Family", "PRUNE_BEST", "Saturation", "Settings", "TRANSFORMS", "closed_forms",
    "common_factors", "evaluate_library", "exact_enough", "expressions", "fit_library",
    "fit_metrics", "front_frame", "grown_monomials", "inner_fit", "model_from_expression",
    "other_routes", "power_laws", "rational_fit", "replication", "route_bic", "route_refit",
    "saturating_terms", "term_cost", "training_metrics",
]
