"""The ``discover`` command: ``discover demo``, ``discover fit DATA --target COL`` and
``discover ode DATA --time t --states x,y``."""

from __future__ import annotations

import argparse
import difflib
import logging
import math
import re
import sys
import time
import warnings
from collections.abc import Sequence
from importlib.metadata import entry_points

from ._data import read_table
from ._discover import METHODS, SOLVERS
from ._version import installed_version
from .bigdata.rows import SEARCH_ROWS
from .bigdata.rows import describe as describe_rows
from .bigdata.screen import describe as describe_screening
from .dynamics.derivatives import DERIVATIVES
from .errors import DiscoveryError
from .search.select import SELECTIONS

__all__ = ["main"]

EXIT_USAGE = 2
#: ``discover fit --strict`` when the verdict is not ``law``
EXIT_NOT_LAW = 3
#: Other packages add subcommands through this entry-point group: each entry is
#: a function taking argparse's subparsers object (``discover benchmark`` comes
#: from ``benchmarks`` this way, so ``discovery`` never imports ``benchmarks``).
PLUGIN_GROUP = "discovery.commands"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors that suggest the near miss."""

    def error(self, message: str) -> None:  # type: ignore[override]
        match = re.search(r"unrecognized arguments: (\S+)", message)
        if match:
            near = difflib.get_close_matches(match.group(1).split("=")[0], _all_options(self), n=1)
            if near:
                message += f" (did you mean {near[0]}?)"
        match = re.search(r"invalid choice: '([^']+)'", message)
        if match:
            choices = re.findall(r"'([^']+)'", message.split("choose from", 1)[-1])
            near = difflib.get_close_matches(match.group(1), choices, n=1)
            if near:
                message = f"{message.rstrip(')')}) (did you mean {near[0]!r}?)"
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


def _all_options(parser: argparse.ArgumentParser) -> list[str]:
    options = list(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                options += _all_options(sub)
    return sorted(set(options))


def _check_options(parser: _Parser, tokens: list[str]) -> None:
    """Report a mistyped option first, with its near miss, before argparse's other errors."""
    known = _all_options(parser)
    for token in tokens:
        if token == "--":
            break
        name = token.split("=", 1)[0]
        if name.startswith("--") and name not in known:
            parser.error(f"unrecognized arguments: {name}")


def comma_list(text: str | None) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``; None or empty → ``[]``.

    Examples
    --------
    >>> comma_list(" v, theta,")
    ['v', 'theta']
    """
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def _constants(text: str | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in filter(None, (text or "").split(",")):
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip().isidentifier():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError as exc:
            raise DiscoveryError(f"--constants expects NAME=VALUE[,NAME=VALUE]; got {item!r}.") \
                from exc
    return out


def build_parser() -> _Parser:
    parser = _Parser(prog="discover", description="Find the formula behind the data.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    _add_demo(sub)
    _add_fit(sub)
    _add_ode(sub)
    _add_import_pysr(sub)
    for plugin in entry_points(group=PLUGIN_GROUP):
        plugin.load()(sub)
    return parser


def _add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="recover the cannon law from built-in data")
    demo.set_defaults(handler=_demo)
    demo.add_argument("--n", type=int, default=1000, help="number of shots (default 1000)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                      help="where the fit runs (default auto: CUDA if present)")
    demo.add_argument("--quiet", action="store_true",
                      help="no progress bar (it shows only where stderr is a terminal)")
    demo.add_argument("--ode", action="store_true",
                      help="the law of motion instead: noisy positions of cannon shots with "
                           "air drag -> dvx/dt = -k|v|vx, dvy/dt = -g - k|v|vy")


def _add_fit(sub: argparse._SubParsersAction) -> None:
    fit = sub.add_parser("fit", help="fit a CSV/Parquet file")
    fit.set_defaults(handler=_fit)
    fit.add_argument("data", help="CSV or Parquet file")
    fit.add_argument("--target", required=True, help="target column")
    fit.add_argument("--inputs", help="comma-separated input columns (default: all others)")
    fit.add_argument("--basis", default="auto",
                     help="library spec, e.g. 'poly(degree=3) * (1 + fourier(theta, 3))', "
                          "or @FILE of terms (default: auto)")
    fit.add_argument("--constants", help="named constants to recognise, e.g. g=9.81")
    fit.add_argument("--units", help="units of inputs, target and named constants (any unit "
                                     "pint reads), e.g. 'v=m/s,theta=rad,s=m,g=m/s^2'")
    fit.add_argument("--method", default="sparse", choices=list(METHODS),
                     help="sparse basis fit (default), or genetic search with Operon, gplearn "
                          "or PySR")
    fit.add_argument("--time-limit", type=float, metavar="S",
                     help="seconds for a genetic search (default 20 Operon, 60 PySR)")
    fit.add_argument("--max-evaluations", type=int, metavar="N",
                     help="evaluation budget for a genetic search")
    fit.add_argument("--no-polish", action="store_true",
                     help="keep a genetic backend's expression as found")
    fit.add_argument("--plot", metavar="PNG", help="write the Pareto front as a picture")
    fit.add_argument("--strict", action="store_true",
                     help=f"exit with {EXIT_NOT_LAW} unless the verdict is 'law'")
    fit.add_argument("--solver", default="auto", choices=list(SOLVERS),
                     help="candidate supports: auto pools greedy, lasso, stlsq and subset "
                          "(best-subset search)")
    fit.add_argument("--selection", default="bic", choices=list(SELECTIONS),
                     help="how the number of terms is chosen: bic (default), aic, or the "
                          "validation error of kfold (alias cv), holdout or extrapolation")
    fit.add_argument("--cv-folds", type=int, default=5, metavar="K", help="folds of kfold")
    fit.add_argument("--validation-fraction", type=float, default=0.25, metavar="F",
                     help="rows held out by holdout and extrapolation (default 0.25)")
    fit.add_argument("--split-on", metavar="INPUT",
                     help="the input extrapolation holds out the top of (needed by "
                          "--selection extrapolation)")
    fit.add_argument("--bootstrap", type=int, default=200, metavar="N",
                     help="resamples for intervals and inclusion probabilities (default 200; "
                          "0: t intervals only)")
    fit.add_argument("--confidence", type=float, default=0.95, metavar="LEVEL",
                     help="level of the coefficient intervals (default 0.95)")
    fit.add_argument("--report", metavar="DIR",
                     help="write summary.md, terms.csv, model.json and the diagnostic pictures")
    fit.add_argument("--max-terms", type=int, default=12, metavar="K",
                     help="the most terms a model may have (default 12)")
    fit.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                     help="where the design matrix is evaluated and searched (default auto: "
                          "CUDA if present)")
    fit.add_argument("--dask", metavar="ADDRESS",
                     help="read DATA (a Parquet file or a folder of parts) on the Dask "
                          "cluster at ADDRESS (tcp://host:8786); only the search rows and "
                          "small matrices come back")
    fit.add_argument("--stream", action="store_true", default=None,
                     help="read DATA (CSV, a Parquet file or a folder of them) one part at a "
                          "time, never whole, for data larger than memory (the default for "
                          "data past 1 GiB on disk)")
    fit.add_argument("--quiet", action="store_true",
                     help="no progress bar (it shows only where stderr is a terminal)")
    fit.add_argument("--search-rows", type=int, default=SEARCH_ROWS, metavar="N",
                     help=f"past N rows, choose the terms on N random rows and estimate them "
                          f"on the others (default {SEARCH_ROWS:,}; 0: every row searches)")
    fit.add_argument("--seed", type=int, default=0,
                     help="random seed for splits, resamples and genetic searches (default 0)")
    fit.add_argument("--json", metavar="OUT",
                     help="write the model as JSON to OUT ('-': to stdout, alone)")
    fit.add_argument("--latex", action="store_true", help="print only the LaTeX formula")
    fit.add_argument("--truth", help="check the result against this formula")


def _add_ode(sub: argparse._SubParsersAction) -> None:
    ode = sub.add_parser("ode", help="find the differential equations behind trajectories")
    ode.set_defaults(handler=_ode)
    ode.add_argument("data", help="CSV or Parquet file of trajectories")
    ode.add_argument("--time", required=True, help="time column")
    ode.add_argument("--states", required=True, help="comma-separated state columns")
    ode.add_argument("--trajectory", help="column naming each run (derivatives never cross runs)")
    ode.add_argument("--controls", help="comma-separated input columns that drive the system")
    ode.add_argument("--angles", help="comma-separated states that are angles (sin, cos "
                                      "and their products join the library; default: states "
                                      "named like theta, phi, ...)")
    ode.add_argument("--order", type=int, default=1, choices=[1, 2],
                     help="2: the states are positions and their accelerations are the law")
    ode.add_argument("--derivative", default="auto", choices=list(DERIVATIVES),
                     help="how derivatives are estimated; naming one other than auto fits "
                          "estimated derivatives instead of the weak (integral) form")
    ode.add_argument("--constants", help="named constants to recognise, e.g. g=9.81")
    ode.add_argument("--units", help="units of the time, states, controls and named constants "
                     "(any unit pint reads), e.g. \"t=s,x=m,theta=rad\"")
    ode.add_argument("--no-refine", action="store_true",
                     help="keep the equation-error fit (no refit on the trajectories)")
    ode.add_argument("--bootstrap", type=int, default=200, metavar="N",
                     help="moving-block bootstrap resamples for intervals (default 200)")
    ode.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ode.add_argument("--json", metavar="OUT",
                     help="write the system as JSON to OUT ('-': to stdout, alone)")
    ode.add_argument("--report", metavar="DIR",
                     help="write system.json, summary.md and simulation.png (data against "
                          "the simulated system)")
    ode.add_argument("--strict", action="store_true",
                     help=f"exit with {EXIT_NOT_LAW} unless every equation's verdict is 'law'")


def _add_import_pysr(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser("import-pysr", help="read a finished PySR run's hall_of_fame.csv")
    imp.set_defaults(handler=_import_pysr)
    imp.add_argument("path", help="hall_of_fame.csv")
    imp.add_argument("--data", help="CSV/Parquet to compute metrics on and polish with")
    imp.add_argument("--target", help="target column of --data")
    imp.add_argument("--inputs", help="comma-separated input columns of --data")
    imp.add_argument("--constants", help="named constants to recognise, e.g. g=9.81")
    imp.add_argument("--no-polish", action="store_true",
                     help="keep PySR's expression as found (no snapping or refit)")
    imp.add_argument("--json", metavar="OUT",
                     help="write the model as JSON to OUT ('-': to stdout, alone)")
    imp.add_argument("--latex", action="store_true", help="print only the LaTeX formula")
    imp.add_argument("--truth", help="check the result against this formula")
    imp.add_argument("--plot", metavar="PNG", help="write the Pareto front as a picture")


def _terms_table(model) -> str:  # noqa: ANN001
    from .model import terms_rows

    found = terms_rows(model)
    header = [h for h in found[0] if any(r[h] for r in found)]
    rows = [tuple(header)] + [tuple(r[h] for h in header) for r in found]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("  " + line for line in lines)


def _pareto_table(model, limit: int = 6) -> str:  # noqa: ANN001
    lines = ["  complexity  terms  mse         expression"]  # error is the training MSE
    front = model.pareto
    shown = front[(front.index < limit) | front["chosen"]]
    for row in shown.itertuples():
        mark = "*" if row.chosen else " "
        terms = getattr(row, "n_terms", None)
        terms_text = "-" if terms is None or terms != terms else str(int(terms))
        lines.append(f"{mark} {row.complexity:>10}  {terms_text:>5}  {row.error:<10.3g}  "
                     f"{row.expression}")
    if len(front) > len(shown):
        lines.append(f"  ... {len(front) - len(shown)} more (all in --json)")
    return "\n".join(lines)


def _report(model, check=None) -> None:  # noqa: ANN001
    m = model.metrics
    genetic = model.method != "sparse"
    label = "Backend found:" if genetic else "Formula:"
    print(f"{label:<15} {model.target} = {model.raw_expression}")
    constants = ", ".join(f"{k} = {v:g}" for k, v in model.constants.items())
    label = "Polished:" if genetic and model.info.get("polished") else "Closed form:"
    print(f"{label:<15} {model.target} = {model.expression}"
          + (f"    ({constants})" if constants else ""))
    if model.names:
        print("Symbols:        " + ", ".join(f"{k} is the column {v!r}"
                                            for k, v in model.names.items()))
    if model.expression != model.raw_expression:
        print("Predictions:    use the closed form (the line above)")
    else:
        print("Predictions:    use the fitted formula (no closed form claimed)")
    consistent = [f"{t.coefficient:.6g} (± {t.std_error:.2g}) is consistent with "
                  f"{t.consistent_with}" for t in model.terms if t.consistent_with is not None]
    for i, line in enumerate(consistent):
        print(f"{'Not claimed:' if i == 0 else '':<15} {line}, but so many forms lie that "
              "close that a match is likely by chance")
    declared = model.info.get("units")
    if declared:
        given = ", ".join(f"{k} in {v}" for k, v in declared["declared"].items())
        balance = {True: "the formula balances them", False: "the formula does NOT balance "
                   "them", None: "some units unknown"}[declared.get("balanced")]
        print(f"Units:          {given}; {balance}")
    print(f"LaTeX:          {model.latex()}")
    if model.terms and all(t.interval is not None for t in model.terms):
        print(f"With intervals: {model.latex(uncertainty=True)}")
    if m:
        exact = " (exact: the residual is float64 rounding)" if m.get("exact_fit") else ""
        print(f"Fit:            R² = {m['r2']:.6f}, MSE = {m['mse']:.3g}{exact}, "
              f"{len(model.terms)} term(s), complexity {m['complexity']}")
        print(f"Rows:           {m['n_samples']} used, {m['rows_dropped']} dropped for NaN/inf")
        if model.info.get("rows"):
            print(f"{'':<15} {describe_rows(model.info['rows'])}")
        if m.get("screening"):
            print(f"Screened:       {describe_screening(m['screening'])}")
        for i, note in enumerate(m.get("identifiability") or []):
            print(f"{'Identifiable?' if i == 0 else '':<15} {note}")
        for i, note in enumerate(m.get("discrete_inputs") or []):
            print(f"{'Discrete:' if i == 0 else '':<15} {note}")
    lib = model.library
    if lib and not genetic:
        extra = []
        if lib.get("dropped"):
            extra.append(f"{len(lib['dropped'])} dropped as non-finite/zero")
        if lib.get("collinear"):
            extra.append(f"{len(lib['collinear'])} collinear dropped")
        print(f"Library:        {lib.get('size')} candidate terms ({lib.get('spec')})"
              + (f"; {', '.join(extra)}" if extra else ""))
    if genetic and "backend_seconds" in model.info:
        print(f"Search:         {model.method}, {model.info['backend_seconds']:.1f} s")
    if model.terms and not any(math.isnan(t.std_error) for t in model.terms):
        print("Terms:")
        print(_terms_table(model))
    from .model import verdict_lines
    from .report import constant_lines, selection_lines

    u = model.uncertainty
    if "n_resamples" in u:
        inclusion = (f"; inclusion over {u['n_resamples']} re-selections on half the "
                     f"{'search ' if model.info.get('rows') else ''}rows, "
                     f"{u['support_rate']:.0%} chose exactly this model"
                     if "support_rate" in u else "")
        print(f"Uncertainty:    {100 * u['level']:g}% {u['interval']} intervals "
              f"({u['n_resamples']} resamples){inclusion}")
    elif u.get("reason"):
        print(f"Uncertainty:    none: {u['reason']}")
    for i, line in enumerate(constant_lines(model)):
        print(f"{'Constants:' if i == 0 else '':<15} {line}")
    for i, line in enumerate(selection_lines(model)):
        print(f"{'Selection:' if i == 0 else '':<15} {line}")
    if len(model.pareto):
        by = model.info.get("chosen_by")
        chosen_by = str(m.get("selection", "bic")).upper() if not genetic else (
            f"{str(by).upper()} from {model.method}'s front" if by else f"{model.method}")
        print(f"Pareto front (* = chosen by {chosen_by}):")
        print(_pareto_table(model))
    for i, line in enumerate(verdict_lines(model)):
        print(f"{'Verdict:' if i == 0 else '':<15} {line}")
    if check is not None:
        verdict = "PASS" if check.symbolic else "FAIL"
        print(f"Check:          {verdict} against {check.truth_text}: symbolic={check.symbolic}, "
              f"exact={check.exact}, precision={check.precision:.2f}, recall={check.recall:.2f}")
    t = model.info.get("timings", {})
    if {"library", "evaluate", "fit", "constants_simplify"} <= set(t):
        print(f"Timings:        library {t['library']:.3f} s, evaluate {t['evaluate']:.3f} s, "
              f"fit {t['fit']:.3f} s, constants+simplify {t['constants_simplify']:.3f} s, "
              + (f"dimensional route {t['dimensional']:.3f} s, " if "dimensional" in t else "")
              + (f"intervals {t['uncertainty']:.3f} s, " if "uncertainty" in t else "")
              + f"total {t['total']:.3f} s on {model.info['device']}")


def _ode_report(system, errors: dict[str, float] | None = None) -> None:  # noqa: ANN001
    from .model import plus_minus, verdict_lines

    print("System:")
    for line in str(system).splitlines():
        print(f"  {line}")
    print(f"LaTeX:          {system.latex()}")
    info = system.info
    how = ("weak (integral) form" if info.get("derivative") == "weak"
           else f"derivatives: {info.get('derivative')}")
    print(f"Data:           {info.get('trajectories')} trajectories; {how}, {info.get('rows')} "
          "rows" + (", coefficients refitted on the trajectories" if info.get("refit") else ""))
    for state, model in system.equations.items():
        rate = (model.info.get("units") or {}).get("target")
        print(f"d{state}/dt:" + (f"  (in {rate})" if rate else ""))
        for term in model.terms:
            value = term.closed_form if term.closed_form is not None else f"{term.coefficient:.6g}"
            interval = ""
            if term.interval is not None:
                low, high = term.interval
                centre, half = plus_minus((low + high) / 2, (high - low) / 2)
                interval = f"   [{low:.6g}, {high:.6g}]  ({centre} ± {half})"
            unit = model.coefficient_unit(term.term) if rate else None
            unit = f" {unit:<10}" if unit else ""
            print(f"  {str(term.term):<32} {value!s:<14}{unit}{interval}")
        for i, line in enumerate(verdict_lines(model)):
            print(f"  {'Verdict:' if i == 0 else '':<10} {line}")
    if errors:
        print("Simulated:      from a start fitted to each trajectory, RMS error / RMS: "
              + ", ".join(f"{s} {v:.3g}" for s, v in errors.items()))


def _plots_first(args: argparse.Namespace) -> None:
    """``--report`` and ``--plot`` draw with matplotlib: where it is missing, say so
    before the fit rather than after it."""
    from ._optional import optional_import

    wanted = [option for option, value in (("--report", getattr(args, "report", None)),
                                           ("--plot", getattr(args, "plot", None))) if value]
    if wanted:
        optional_import("matplotlib", "plots", purpose=" and ".join(wanted))


def _ode(args: argparse.Namespace) -> int:
    from .dynamics import discover_ode

    _plots_first(args)
    constants = _constants(args.constants)
    data = read_table(args.data)
    system = discover_ode(data, time=args.time, states=comma_list(args.states),
                          trajectory=args.trajectory, controls=comma_list(args.controls),
                          order=args.order, derivative=args.derivative,
                          angles=comma_list(args.angles) or None,
                          refine=False if args.no_refine else None, constants=constants,
                          n_bootstrap=args.bootstrap, random_state=args.seed,
                          units=args.units)
    return _finish_ode(system, data, args)


def _finish_ode(system, data, args: argparse.Namespace) -> int:  # noqa: ANN001
    from .dynamics import write_ode_report

    _write_json(system, args.json)
    written = []
    if getattr(args, "report", None):
        written = write_ode_report(system, data, args.report, getattr(args, "trajectory", None))
    if args.json != "-":
        _ode_report(system, system.simulation_error(data, getattr(args, "trajectory", None)))
        if args.json:
            print(f"Saved:          {args.json}")
        if written:
            print(f"Report:         {args.report}/ ({', '.join(p.name for p in written)})")
    if getattr(args, "strict", False) and any(v != "law" for v in system.verdicts.values()):
        return EXIT_NOT_LAW
    return 0


def _demo_ode(args: argparse.Namespace) -> int:
    from .datasets import DRAG, G, cannon_drag_data
    from .dynamics import discover_ode

    data = cannon_drag_data(random_state=args.seed)
    print(f"Cannon with air drag: {data['shot'].nunique()} shots, {len(data)} positions at "
          f"100 Hz, noise 1% of each coordinate's RMS; truth dvx/dt = -k|v|vx, "
          f"dvy/dt = -g - k|v|vy with g = {G}, k = {DRAG}; seed {args.seed}")
    system = discover_ode(data, time="t", states=["x", "y"], trajectory="shot", order=2,
                          random_state=args.seed, device=args.device)
    args.trajectory, args.json, args.report, args.strict = "shot", None, None, False
    code = _finish_ode(system, data, args)
    g = -next((t.coefficient for t in system.equations["vy"].terms if t.term == 1), float("nan"))
    print(f"Check:          g = {g:.4g} (true {G}, {100 * abs(g - G) / G:.2f}% off)")
    return code


def _demo(args: argparse.Namespace) -> int:
    from . import CANNON_TRUTH, cannon_data, check, discover

    if args.ode:
        return _demo_ode(args)
    data = cannon_data(n=args.n, random_state=args.seed)
    print(f"Cannon data: {args.n} shots, v ~ U(0, 10), theta ~ U(0, pi/2), "
          f"s = v^2 sin(2 theta)/g + N(0, 0.01^2), clipped at 0; seed {args.seed}")
    model = discover(data, target="s", constants={"g": 9.81}, device=args.device,
                     random_state=args.seed, verbose=False if args.quiet else None)
    result = check(model, CANNON_TRUTH, constants={"g": 9.81})
    object.__setattr__(result, "truth_text", CANNON_TRUTH)
    _report(model, result)
    return 0 if result.symbolic else 1


def _fit(args: argparse.Namespace) -> int:
    from . import discover

    _plots_first(args)
    inputs = comma_list(args.inputs) or None
    constants = _constants(args.constants)
    model = discover(args.data, target=args.target, inputs=inputs, basis=args.basis,
                     method=args.method, solver=args.solver, selection=args.selection,
                     max_terms=args.max_terms, cv_folds=args.cv_folds,
                     validation_fraction=args.validation_fraction, split_on=args.split_on,
                     n_bootstrap=args.bootstrap, confidence=args.confidence,
                     constants=constants, device=args.device,
                     random_state=args.seed, time_limit=args.time_limit,
                     max_evaluations=args.max_evaluations, polish=not args.no_polish,
                     search_rows=args.search_rows or None,
                     verbose=False if args.quiet else None, dask=args.dask,
                     stream=args.stream, units=args.units)
    return _finish(model, args, constants)


def _import_pysr(args: argparse.Namespace) -> int:
    from . import from_pysr

    _plots_first(args)
    if args.data and not args.target:
        raise DiscoveryError("import-pysr with --data needs --target COL.")
    inputs = comma_list(args.inputs) or None
    constants = _constants(args.constants)
    model = from_pysr(args.path, args.data, args.target, inputs, polish=not args.no_polish,
                      constants=constants)
    return _finish(model, args, constants)


def _write_json(result, target: str | None) -> None:  # noqa: ANN001
    """``--json``: ``result`` (a Model or an OdeModel) to the file ``target``, or alone
    on stdout for ``-`` (for pipes, as ``--latex`` prints the formula alone)."""
    if target == "-":
        sys.stdout.write(result.to_json())
    elif target:
        try:
            result.save(target)
        except OSError as exc:
            raise DiscoveryError(f"Cannot write {target!r}: {exc.strerror}.") from exc


def _finish(model, args: argparse.Namespace, constants: dict[str, float]) -> int:  # noqa: ANN001
    from . import check

    result = None
    if args.truth:
        result = check(model, args.truth, constants=constants)
        object.__setattr__(result, "truth_text", args.truth)
    _write_json(model, args.json)
    if args.plot:
        from .plots import plot_pareto

        plot_pareto(model, args.plot)
    written = []
    if getattr(args, "report", None):
        from .report import write_report

        written = write_report(model, args.report)
    if args.latex:
        print(model.latex())
    elif args.json != "-":
        _report(model, result)
        if args.json:
            print(f"Saved:          {args.json}")
        if args.plot:
            print(f"Pareto plot:    {args.plot}")
        if written:
            print(f"Report:         {args.report}/ ({', '.join(p.name for p in written)})")
    if result is not None and not result.symbolic:
        return 1
    if getattr(args, "strict", False) and model.verdict.get("status") != "law":
        return EXIT_NOT_LAW
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``discover`` command; returns the exit code."""
    started = time.perf_counter()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    warnings.showwarning = lambda message, category, *a, **k: print(  # type: ignore[assignment]
        f"warning: {message}", file=sys.stderr)
    try:
        parser = build_parser()
        tokens = list(sys.argv[1:] if argv is None else argv)
        _check_options(parser, tokens)
        args = parser.parse_args(tokens)
        code = args.handler(args)
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except DiscoveryError as exc:
        print(f"discover: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("discover: interrupted", file=sys.stderr)
        return 130
    logging.getLogger(__name__).debug("done in %.2f s", time.perf_counter() - started)
    return code


if __name__ == "__main__":
    sys.exit(main())
