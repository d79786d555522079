"""Every benchmark's formulas, recorded and compared: proof that a change kept behaviour.

``record`` runs each benchmark the project has (Feynman at three noise levels, SRSD,
the bonus set, Nguyen, honesty, dynamics, printing, the two cannon demos) into one
folder and gathers, for every run, the formula it printed and its verdict into
``formulas.json``. ``compare`` reads two such files and lists each run whose formula
or verdict differs, and the runs only one of them has (a time-out, say)::

    python -m benchmarks.formulas record --out before --workers 2
    python -m benchmarks.formulas record --out after --workers 2
    python -m benchmarks.formulas compare before/formulas.json after/formulas.json

A suite already recorded in the folder (its ``results.jsonl`` complete) is read, not
run again, so an interrupted ``record`` resumes; ``--suites`` picks some.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SUITES", "record", "gather", "compare", "main"]

#: Each suite: the ``discover benchmark`` arguments that reproduce its published figures.
SUITES: dict[str, list[str]] = {
    "feynman": ["feynman", "--set", "feynman", "--noise", "0,0.01,0.1"],
    "srsd-easy": ["feynman", "--set", "srsd-easy", "--noise", "0"],
    "srsd-medium": ["feynman", "--set", "srsd-medium", "--noise", "0"],
    "srsd-hard": ["feynman", "--set", "srsd-hard", "--noise", "0"],
    "bonus": ["feynman", "--set", "bonus", "--noise", "0,0.01"],
    "nguyen": ["nguyen", "--seeds", "10"],
    "honesty": ["honesty"],
    "printing": ["printing"],
    "ode": ["ode", "--noise", "0,0.01,0.05"],
}
#: Suites that take ``--workers``.
_PARALLEL = {"feynman", "srsd-easy", "srsd-medium", "srsd-hard", "bonus", "nguyen", "honesty",
             "printing"}
DEMOS = ("demo", "demo-ode")


def _formula_row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"status": r.get("status"), "expression": r.get("expression"),
            "verdict": r.get("verdict")}


def _nguyen_row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"status": r.get("status"), "expression": r.get("expression")}


def _printing_row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"status": r.get("status", "ok"), "expression": r.get("raw"),
            "printed": r.get("printed"), "verdict": r.get("verdict")}


def _ode_row(r: Mapping[str, Any]) -> dict[str, Any]:
    ours = r.get("ours") or {}
    return {"status": ours.get("status", "ok" if "found" in ours else "error"),
            "expression": ours.get("found"), "verdict": ours.get("verdicts")}


def _ode_key(r: Mapping[str, Any]) -> str:
    return f"{r['system']}|noise={r['noise']:g}|seed={r.get('seed', 0)}"


_ROWS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "feynman": _formula_row, "nguyen": _nguyen_row, "honesty": _formula_row,
    "printing": _printing_row, "ode": _ode_row}


def _kind(suite: str) -> str:
    return "feynman" if suite.startswith("srsd") or suite == "bonus" else suite


def gather(suite: str, results: Path) -> dict[str, dict[str, Any]]:
    """The formula and verdict of each run in a suite's ``results.jsonl``, by run key."""
    kind = _kind(suite)
    rows: dict[str, dict[str, Any]] = {}
    for line in results.read_text().splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        key = _ode_key(r) if kind == "ode" else str(r["key"])
        rows[key] = _ROWS[kind](r)
    return dict(sorted(rows.items()))


def _demo(ode: bool) -> dict[str, dict[str, Any]]:
    from discovery import cannon_data, discover
    from discovery.datasets import cannon_drag_data
    from discovery.dynamics import discover_ode

    if ode:
        system = discover_ode(cannon_drag_data(random_state=0), time="t", states=["x", "y"],
                              trajectory="shot", order=2, random_state=0, device="cpu")
        found = {k: str(v) for k, v in system.rhs(numeric=True).items()}
        return {"cannon with drag|seed=0": {"status": "ok", "expression": found,
                                            "verdict": dict(system.verdicts)}}
    model = discover(cannon_data(n=1000, random_state=0), target="s", constants={"g": 9.81},
                     device="cpu", random_state=0, verbose=False)
    return {"cannon|seed=0": {"status": "ok", "expression": str(model.expression),
                              "verdict": model.verdict.status}}


def _run_suite(suite: str, folder: Path, workers: int) -> None:
    args = [sys.executable, "-m", "discovery.cli", "benchmark", *SUITES[suite],
            "--out", str(folder)]
    if suite in _PARALLEL:
        args += ["--workers", str(workers)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def record(out: Path, suites: Iterable[str], workers: int = 2,
           log: Callable[[str], None] = print) -> Path:
    """Run the suites (those not yet in ``out``) and write ``out/formulas.json``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "formulas.json"
    found: dict[str, dict[str, dict[str, Any]]] = (
        json.loads(path.read_text()) if path.exists() else {})
    for suite in suites:
        if suite in found:
            log(f"{suite}: already recorded")
            continue
        log(f"{suite}: running")
        if suite in DEMOS:
            found[suite] = _demo(suite == "demo-ode")
        else:
            folder = out / suite
            _run_suite(suite, folder, workers)
            found[suite] = gather(suite, folder / "results.jsonl")
        path.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
        log(f"{suite}: {len(found[suite])} runs")
    return path


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each run whose formula, verdict or status differs between two records."""
    differences: list[dict[str, Any]] = []
    for suite in sorted(set(before) | set(after)):
        a, b = before.get(suite, {}), after.get(suite, {})
        for key in sorted(set(a) | set(b)):
            old, new = a.get(key), b.get(key)
            if old == new:
                continue
            fields = ("run",) if old is None or new is None else tuple(
                f for f in sorted(set(old) | set(new)) if old.get(f) != new.get(f))
            differences.append({"suite": suite, "key": key, "fields": fields,
                                "before": old, "after": new})
    return differences


def _summary(before: Mapping[str, Any], after: Mapping[str, Any],
             differences: list[dict[str, Any]]) -> str:
    lines = ["| suite | runs before | runs after | differ |", "|---|---:|---:|---:|"]
    for suite in sorted(set(before) | set(after)):
        n = sum(d["suite"] == suite for d in differences)
        lines.append(f"| {suite} | {len(before.get(suite, {}))} | {len(after.get(suite, {}))} "
                     f"| {n} |")
    for d in differences:
        lines.append(f"\n{d['suite']} {d['key']} ({', '.join(d['fields'])}):\n"
                     f"  before: {json.dumps(d['before'])}\n  after:  {json.dumps(d['after'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.formulas",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="run every benchmark and record its formulas")
    rec.add_argument("--out", required=True, help="folder for the runs and formulas.json")
    rec.add_argument("--workers", type=int, default=2)
    rec.add_argument("--suites", default=",".join([*SUITES, *DEMOS]),
                     help=f"comma-separated, of {', '.join([*SUITES, *DEMOS])}")
    cmp = sub.add_parser("compare", help="list the runs whose formulas differ")
    cmp.add_argument("before")
    cmp.add_argument("after")
    args = parser.parse_args(argv)
    if args.command == "record":
        suites = [s.strip() for s in args.suites.split(",") if s.strip()]
        unknown = sorted(set(suites) - set(SUITES) - set(DEMOS))
        if unknown:
            parser.error(f"--suites: unknown {', '.join(unknown)}")
        print(f"wrote {record(Path(args.out), suites, args.workers)}")
        return 0
    before = json.loads(Path(args.before).read_text())
    after = json.loads(Path(args.after).read_text())
    differences = compare(before, after)
    print(_summary(before, after, differences))
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
