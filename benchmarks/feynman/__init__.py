"""The Feynman symbolic-regression benchmark: equations, data, runner, summary."""

from .problems import SETS, Problem, generate, load_problems

__all__ = ["SETS", "Problem", "generate", "load_problems"]
