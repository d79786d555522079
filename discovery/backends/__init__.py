"""Genetic search backends (Operon, gplearn, PySR) behind the same Model, and the
polish of their expressions.
"""

from .genetic import GeneticResult, additive_terms, discover_genetic, pick_from_front, polish_model
from .gplearn import GPLEARN_DEFAULTS, program_to_sympy, run_gplearn
from .operon import OPERON_DEFAULTS, run_operon
from .pysr import PYSR_DEFAULTS, find_julia, pysr_best, read_hall_of_fame, run_pysr
from .registry import BACKENDS, Backend, backend

__all__ = [
    "BACKENDS", "Backend", "GPLEARN_DEFAULTS", "GeneticResult", "OPERON_DEFAULTS",
    "PYSR_DEFAULTS", "additive_terms", "backend", "discover_genetic", "find_julia",
    "pick_from_front", "polish_model", "program_to_sympy", "pysr_best", "read_hall_of_fame",
    "run_gplearn", "run_operon", "run_pysr",
]
