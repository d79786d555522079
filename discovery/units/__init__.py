"""Units and dimensional analysis: declared units, the dimension of an expression,
and the Buckingham-π reduction of a law to dimensionless groups.
"""

from .declare import Unit, Units, parse_unit, parse_units
from .dimension import BASE_UNITS, DIMENSIONLESS, Dimension, Unbalanced, dimension_of
from .groups import Reduction, reductions

__all__ = [
    "BASE_UNITS", "DIMENSIONLESS", "Dimension", "Reduction", "Unbalanced", "Unit", "Units",
    "dimension_of", "parse_unit", "parse_units", "reductions",
]
