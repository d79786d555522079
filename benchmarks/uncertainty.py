"""The bootstrap's cost against one fit, and what it finds, on the cannon data.

Run: ``python -m benchmarks.uncertainty [--n 1000] [--resamples 200] [--repeats 5]
[--device auto] [--out DIR]``

For each library (the default one that ``discover`` builds for the cannon
data, and a ~1,000-term one), ``discover`` runs ``repeats`` times without the
bootstrap and ``repeats`` times with ``resamples`` resamples. The table gives
the median time of the sparse engine's fit (search, refit and selection on
the evaluated library: ``timings["fit"]``), of the batched bootstrap
(``timings["bootstrap"]``: re-selection on ``resamples`` half-subsamples and
refits of the chosen support on ``resamples`` bootstrap resamples) and their
ratio (the target is under 5), then what the bootstrap found: the true term's
inclusion probability, the largest spurious one, the coefficient's interval
and g's. ``uncertainty.json`` holds the rows. Times are after a warm-up run,
in one process; compare them as ratios within one run on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import torch

from basis_library import Library, auto_library
from discovery import Model, cannon_data, discover

from .library_scaling import SIZES

TRUE_TERM = "v**2*sin(2*theta)"


def run(n: int = 1000, resamples: int = 200, repeats: int = 5, device: str = "auto",
        seed: int = 0) -> list[dict[str, object]]:
    data = cannon_data(n=n, random_state=seed)
    columns = {c: data[c].to_numpy() for c in ("v", "theta")}
    build = cast(Callable[[str, str], Library], SIZES["~1,000"])
    libraries = {"default (auto)": auto_library(columns), "~1,000": build("v", "theta")}
    rows = []
    for label, library in libraries.items():
        def fit(n_bootstrap: int, library: Library = library) -> Model:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return discover(data, target="s", basis=library, constants={"g": 9.81},
                                device=device, random_state=seed, n_bootstrap=n_bootstrap)

        fit(resamples)  # warm-up: compiled kernels, sympy caches
        plain = [fit(0).info["timings"] for _ in range(repeats)]
        models = [fit(resamples) for _ in range(repeats)]
        fit_s = statistics.median(t["fit"] for t in plain)  # type: ignore[index]
        boot_s = statistics.median(m.info["timings"]["bootstrap"]  # type: ignore[index]
                                   for m in models)
        model = models[-1]
        u = model.uncertainty
        inclusion = {r["term"]: r["probability"] for r in u["inclusion"]}
        spurious = max((p for t, p in inclusion.items() if t != TRUE_TERM), default=0.0)
        term = next((t for t in model.terms if str(t.term) == TRUE_TERM), None)
        g = u["constants"].get("g")
        rows.append({
            "library": label, "size": len(library), "evaluated": model.library["evaluated"],
            "resamples": resamples, "fit_s": fit_s, "bootstrap_s": boot_s,
            "ratio": boot_s / fit_s, "formula": str(model.expression),
            "true_inclusion": inclusion.get(TRUE_TERM, 0.0), "max_spurious_inclusion": spurious,
            "coefficient": None if term is None else term.coefficient,
            "interval": None if term is None else list(term.interval or ()),
            "g": g, "support_rate": u["support_rate"], "device": model.info["device"], "n": n})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)
    rows = run(args.n, args.resamples, args.repeats, args.device, args.seed)
    header = (f"{'library':<15} {'size':>5} {'fit s':>7} {'bootstrap s':>11} {'ratio':>6}  "
              f"{'true incl':>9} {'max spurious':>12}  {'coefficient 95% CI':<24} g 95% CI")
    print(header)
    print("-" * len(header))
    for r in rows:
        interval: Any = r["interval"] or [float("nan")] * 2
        g: Any = r["g"] or {"low": float("nan"), "high": float("nan")}
        print(f"{r['library']:<15} {r['size']:>5} {r['fit_s']:>7.3f} {r['bootstrap_s']:>11.3f} "
              f"{r['ratio']:>6.2f}  {r['true_inclusion']:>9.2f} "
              f"{r['max_spurious_inclusion']:>12.3f}  [{interval[0]:.6f}, {interval[1]:.6f}]  "
              f"[{g['low']:.4f}, {g['high']:.4f}]")
    print(f"\n{args.resamples} resamples, median of {args.repeats} runs, on {rows[0]['device']}; "
          "ratio = bootstrap / fit (target < 5)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "torch": torch.__version__,
            "machine": platform.machine(), "threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None}
    (out / "uncertainty.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(f"wrote {out / 'uncertainty.json'}")


if __name__ == "__main__":
    main()
