"""Routes to a formula: the plain library fit, then transforms, power laws, factors,
grown monomials, rational laws, inner constants and saturating terms, compared on
the original target.
"""

from .base import (
    NUMERICAL,
    Proposal,
    Route,
    RouteContext,
    RouteKind,
    exact_enough,
    model_of,
    nonlinear_bic,
    nonlinear_model,
    route_bic,
    rows_of,
    skeleton,
    structure_of,
)
from .compare import other_routes, replication, route_refit, settled
from .exponents import FACTORS, fits_exactly, original_scale_fit, snapped_rss, snapped_shape
from .factors import (
    FactorRoute,
    best_factored,
    common_factors,
    evaluate_shape,
    factored_fit,
    proportional,
)
from .grown import GrownRoute, grown_route
from .inner import FAMILIES, Family, InnerRoute, inner_fit
from .library import (
    PRUNE_BEST,
    Settings,
    evaluate_library,
    expressions,
    fit_library,
    fit_metrics,
    front_frame,
    model_from_expression,
    term_cost,
    training_metrics,
)
from .powers import PowerLawRoute, power_laws
from .pursuit import grown_monomials
from .rational import RationalRoute, rational_fit
from .registry import ROUTES
from .saturating import Saturation, saturating_terms
from .shapes import Shapes, shape_libraries
from .transforms import TRANSFORMS, TransformRoute, transform_route, transformed

__all__ = [
    "FACTORS", "FAMILIES", "FactorRoute", "Family", "GrownRoute", "InnerRoute", "NUMERICAL",
    "PRUNE_BEST", "PowerLawRoute", "Proposal", "ROUTES", "RationalRoute", "Route",
    "RouteContext", "RouteKind", "Saturation", "Settings", "Shapes", "TRANSFORMS",
    "TransformRoute", "best_factored", "common_factors", "evaluate_library", "evaluate_shape",
    "exact_enough", "expressions", "factored_fit", "fit_library", "fit_metrics",
    "fits_exactly", "front_frame", "grown_monomials", "grown_route", "inner_fit",
    "model_from_expression", "model_of", "nonlinear_bic", "nonlinear_model",
    "original_scale_fit", "other_routes", "power_laws", "proportional", "rational_fit",
    "replication", "route_bic", "route_refit", "rows_of", "saturating_terms", "settled",
    "shape_libraries", "skeleton", "snapped_rss", "snapped_shape", "structure_of", "term_cost",
    "training_metrics", "transform_route", "transformed",
]
