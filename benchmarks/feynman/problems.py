"""The Feynman equations (shipped in ``data/``) and data generated from them.

AI Feynman's sets (``feynman``: 100 equations, ``bonus``: 20) sample every
input uniformly in [low, high]; SRSD's re-specification (``srsd-easy``,
``srsd-medium``, ``srsd-hard``) samples by each variable's own rule
(log-uniform, uniform, integer; a random sign where marked ``both``). Noise
follows SRBench: Gaussian with std = level × RMS(y).
"""

from __future__ import annotations

import fnmatch
import functools
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
import sympy

from basis_library import parse_expression
from discovery import DataError

__all__ = ["Problem", "Variable", "load_problems", "generate", "SETS", "problems_by_key",
           "unit_table", "units_of"]

SETS = ("feynman", "bonus", "srsd-easy", "srsd-medium", "srsd-hard")
_SI = {"c": 2.99792458e8, "alpha": 7.2973525693e-3}  # speed of light, fine structure
#: The physical constants SRSD writes into its formulas as numbers, by the literal it
#: writes, with the name AI Feynman's version of the law gives the constant (the
#: electron mass, which AI Feynman does not name, is m_e): with units they are
#: named constants, so that the law's coefficients can carry their units.
_SRSD_LITERALS = {
    "6.6743e-11": "G", "6.67430e-11": "G", "2.99792458e8": "c", "8.854e-12": "epsilon",
    "1.380649e-23": "kb", "6.626e-34": "h", "1.054571817e-34": "hbar", "9.80665": "g",
    "7.2973525693e-3": "alpha", "9.10938356e-31": "m_e",
}
#: Units of the named constants units.csv does not list.
_EXTRA_UNITS = {"m_e": "kg"}


@dataclass(frozen=True)
class Variable:
    name: str
    low: float
    high: float
    sampling: str = "uniform"  # uniform | log-uniform | integer
    sign: str = "positive"  # positive | both


@dataclass(frozen=True)
class Problem:
    """One law: its name, set, output, formula (sympy) and input variables."""

    name: str
    set: str
    output: str
    formula: sympy.Expr
    variables: tuple[Variable, ...]
    #: SRSD's physical constants, named (``{"G": 6.6743e-11}``): the numbers in its formula
    constants: tuple[tuple[str, float], ...] = ()
    #: The AI Feynman problem this one re-specifies (SRSD), for the output's unit
    source: str = ""

    @property
    def inputs(self) -> list[str]:
        return [v.name for v in self.variables]

    @property
    def key(self) -> str:
        return f"{self.set}/{self.name}"


def _read(file: str) -> pd.DataFrame:
    with resources.files("benchmarks.feynman").joinpath("data", file).open() as handle:
        return pd.read_csv(handle)


def _symbols(names: list[str]) -> dict[str, sympy.Symbol]:
    return {n: sympy.Symbol(n, real=True) for n in names}


def _ai_feynman(file: str, set_name: str) -> list[Problem]:
    frame = _read(file)
    out = []
    for _, row in frame.iterrows():
        count = int(row["# variables"])
        variables = tuple(Variable(str(row[f"v{i}_name"]).strip(), float(row[f"v{i}_low"]),
                                   float(row[f"v{i}_high"])) for i in range(1, count + 1))
        formula = parse_expression(str(row["Formula"]), _symbols([v.name for v in variables]),
                                   allow_new_symbols=False, where=f"formula of {row['Filename']}")
        out.append(Problem(str(row["Filename"]), set_name, str(row["Output"]), formula,
                           variables))
    return out


def _srsd(level: str) -> list[Problem]:
    frame = _read("srsd_feynman.csv")
    out = []
    for _, row in frame[frame["set"] == level].iterrows():
        count = int(row["num_vars"])
        variables = []
        for i in range(1, count + 1):
            sampling = str(row[f"v{i}_sampling"]).strip()
            sampling = "integer" if sampling == "integer-uniform" else sampling
            variables.append(Variable(str(row[f"v{i}_name"]).strip(), float(row[f"v{i}_low"]),
                                      float(row[f"v{i}_high"]), sampling,
                                      str(row[f"v{i}_sign"]).strip()))
        table = _symbols([v.name for v in variables])
        formula = parse_expression(str(row["formula"]), table, where=f"formula of "
                                   f"{row['eq_name']}")
        # srsd_feynman.csv writes the speed of light once as c where it is not a
        # variable (feynman-i.15.3t), and alpha in feynman-bonus.1; they are SI constants.
        stray = {s: sympy.Float(_SI[s.name]) for s in formula.free_symbols
                 if s.name not in table and s.name in _SI}
        formula = formula.xreplace(stray)
        unknown = sorted(s.name for s in formula.free_symbols if s.name not in table)
        if unknown:
            raise DataError(f"{row['eq_name']}: unknown names {', '.join(unknown)}.")
        text = str(row["formula"])
        named = {name: float(literal) for literal, name in _SRSD_LITERALS.items()
                 if literal in text and name not in table}
        named.update({s.name: _SI[s.name] for s in stray})
        out.append(Problem(str(row["equation"]), f"srsd-{level}", "y", formula,
                           tuple(variables), tuple(sorted(named.items())),
                           _source(str(row["eq_name"]))))
    return out


def _source(eq_name: str) -> str:
    """The key of the AI Feynman problem an SRSD equation re-specifies
    (``feynman-i.6.20a`` → ``feynman/I.6.2a``, ``feynman-bonus.3`` → ``bonus/test_3``)."""
    tail = eq_name.split("-", 1)[1]
    if tail.startswith("bonus."):
        return f"bonus/test_{tail.split('.', 1)[1]}"
    parts = tail.split(".")
    parts[0] = parts[0].upper()
    if parts[:2] == ["I", "6"]:  # SRSD writes I.6.20 for AI Feynman's I.6.2
        parts[2] = parts[2].replace("20", "2", 1)
    return "feynman/" + ".".join(parts)


_UNIT_COLUMNS = (("m", "m"), ("s", "s"), ("kg", "kg"), ("T", "K"), ("V", "V"))


@functools.cache
def unit_table() -> dict[str, str]:
    """Every Feynman variable's unit (``data/units.csv``, AI Feynman's table as PhySO
    ships it, see ``data/PROVENANCE.md``) as a unit pint reads: ``"m^2*s^-2*kg"``."""
    frame = _read("units.csv")
    table = {}
    for _, row in frame.iterrows():
        parts = [unit if int(row[col]) == 1 else f"{unit}^{int(row[col])}"
                 for col, unit in _UNIT_COLUMNS if int(row[col]) != 0]
        table[str(row["Variable"]).strip()] = "*".join(parts) or "1"
    return table


def units_of(problem: Problem, target: str) -> dict[str, str]:
    """The units of ``problem``'s inputs, its named constants and its output (under the
    name ``target``).

    An SRSD problem's output has the unit of the AI Feynman output it
    re-specifies; its physical constants (:attr:`Problem.constants`) are named,
    with their units, and must be passed as ``constants`` beside the units.
    """
    table = {**unit_table(), **_EXTRA_UNITS}
    output = problem.output
    if problem.source:
        origin = problems_by_key(problem.source.split("/")[0]).get(problem.source)
        if origin is None:
            raise DataError(f"{problem.key}: no AI Feynman problem {problem.source}.")
        output = origin.output
    names = [*problem.inputs, *(name for name, _ in problem.constants)]
    missing = sorted(n for n in [*names, output] if n not in table)
    if missing:
        raise DataError(f"{problem.key}: no unit for {', '.join(missing)} in units.csv.")
    return {**{n: table[n] for n in names}, target: table[output]}


@functools.lru_cache(maxsize=8)
def problems_by_key(set_name: str) -> dict[str, Problem]:
    """The problems of one set by :attr:`Problem.key`, read once a process."""
    return {p.key: p for p in load_problems(set_name)}


def load_problems(set_name: str = "feynman", pattern: str | None = None) -> list[Problem]:
    """The problems of one set (or ``"all"``), optionally filtered by globs on the name.

    ``pattern`` is one glob or several separated by commas (``"I.10.7,II.*"``).

    Examples
    --------
    >>> problems = load_problems("feynman")
    >>> len(problems), problems[0].name, problems[0].formula
    (100, 'I.6.2a', sqrt(2)*exp(-theta**2/2)/(2*sqrt(pi)))
    """
    if set_name == "all":
        return [p for s in SETS for p in load_problems(s, pattern)]
    if set_name == "feynman":
        problems = _ai_feynman("FeynmanEquations.csv", "feynman")
    elif set_name == "bonus":
        problems = _ai_feynman("BonusEquations.csv", "bonus")
    elif set_name in ("srsd-easy", "srsd-medium", "srsd-hard"):
        problems = _srsd(set_name.split("-", 1)[1])
    else:
        raise DataError(f"Unknown Feynman set {set_name!r}; expected one of "
                        f"{', '.join(SETS)} or all.")
    if pattern:
        globs = [g.strip() for g in pattern.split(",") if g.strip()]
        problems = [p for p in problems if any(fnmatch.fnmatch(p.name, g) for g in globs)]
    return problems


def _sample(variable: Variable, n: int, rng: np.random.Generator) -> np.ndarray:
    low, high = variable.low, variable.high
    if variable.sampling == "log-uniform":
        values = 10 ** rng.uniform(math.log10(low), math.log10(high), n)
    elif variable.sampling == "integer":
        values = rng.integers(int(math.ceil(low)), int(math.floor(high)) + 1, n).astype(float)
    else:
        values = rng.uniform(low, high, n)
    if variable.sign == "both":
        values = values * rng.choice([-1.0, 1.0], n)
    return values


def generate(problem: Problem, n: int, *, noise: float = 0.0, random_state: int = 0
             ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``n`` points of ``problem``: inputs by name and the (noisy) target.

    Points where the formula is not finite are resampled.
    """
    rng = np.random.default_rng(random_state)
    symbols = [sympy.Symbol(v.name, real=True) for v in problem.variables]
    f = sympy.lambdify(symbols, problem.formula, modules="numpy")
    columns: dict[str, list[np.ndarray]] = {v.name: [] for v in problem.variables}
    ys: list[np.ndarray] = []
    have = 0
    for _ in range(50):
        batch = {v.name: _sample(v, 2 * (n - have) + 16, rng) for v in problem.variables}
        with np.errstate(all="ignore"):
            y = np.broadcast_to(np.asarray(f(*batch.values()), dtype=float),
                                (len(next(iter(batch.values()))),))
        ok = np.isfinite(y)
        for name in columns:
            columns[name].append(batch[name][ok])
        ys.append(y[ok])
        have += int(ok.sum())
        if have >= n:
            break
    if have < n:
        raise DataError(f"{problem.key}: could not sample {n} points where the formula is finite.")
    data = {k: np.concatenate(v)[:n] for k, v in columns.items()}
    target = np.concatenate(ys)[:n]
    if noise:
        target = target + rng.normal(0.0, noise * math.sqrt(np.mean(target**2)), n)
    return data, target
