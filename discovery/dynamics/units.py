"""Units of a system of differential equations: a state's rate has the state's unit per
unit of time (an acceleration, per unit of time squared), and each term of a right-hand
side must balance inside (no ``sin(x)`` of a length).

A rate's coefficients are the system's parameters (a rate constant in 1/s, a
spring's k/m in 1/s²): unlike a static law's, they may carry any unit, which
the output states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from basis_library import Library

from ..errors import UnitsError
from ..model import Model
from ..units import Unit, Units

__all__ = ["equation_units", "with_units", "units_library"]


def _per(unit: Unit, time: Unit, power: int = 1) -> Unit:
    dimension = unit.dimension - time.dimension * power
    return Unit(str(dimension) if not dimension.dimensionless else "1", dimension,
                scale=unit.scale / time.scale**power)


def equation_units(spec: object, *, time: str, states: Sequence[str],
                   kinematics: Mapping[str, str], controls: Sequence[str],
                   constants: Mapping[str, float] | None) -> dict[str, Units]:
    """For each state whose law is searched, the units bound to its equation: the
    states', velocities' (a position's unit per unit of time) and controls' as
    inputs, the rate's as the target. The time's unit is needed; a name that is
    neither the time, a state, a control nor a named constant is refused with the
    near miss (:meth:`~discovery.units.Units.bind`)."""
    bound = Units.bind(spec, inputs=[*states, *controls], target=time, constants=constants)
    t = bound.unit(time)
    if t is None:
        raise UnitsError(f"Units for a system need the time's unit ({time}=s, say).")
    declared = {k: v for k, v in bound.declared.items() if k != time}
    for position, velocity in kinematics.items():
        if position in declared:
            declared[velocity] = _per(declared[position], t)
    searched = list(kinematics.values()) if kinematics else list(states)
    out = {}
    for state in searched:
        rate = "__rate__"
        unit = declared.get(state)
        table = dict(declared)
        if unit is not None:
            table[rate] = _per(unit, t)
        out[state] = Units(declared=table, target=rate,
                           symbols={k: k for k in table}, constants=bound.constants)
    return out


def units_library(library: Library, units: Mapping[str, Units]) -> Library:
    """``library`` without the terms unbalanced inside (``sin(x)``, ``exp(x)`` of a
    quantity with a unit) under the declared units."""
    if not units:
        return library
    first = next(iter(units.values()))
    kept = [t for t in library.terms if first.term_balances(t)]
    if not kept:
        raise UnitsError("No candidate term balances the declared units inside.")
    return Library(kept, spec=f"{library.spec}, units")


def with_units(model: Model, units: Units) -> Model:
    """``model`` with ``info["units"]``: the declared units, the rate's, and each term's
    coefficient unit (a rate constant's 1/s)."""
    terms = units.coefficient_units(t.term for t in model.terms)
    balanced = all(units.term_balances(t.term) for t in model.terms)
    rate = units.unit(units.target)
    summary = {"declared": {k: v.text for k, v in units.declared.items()
                            if k != units.target},
               "target": "" if rate is None else str(rate.dimension),
               "balanced": balanced, "terms": terms}
    return model.updated(info={"units": summary})
