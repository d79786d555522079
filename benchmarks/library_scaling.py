"""Library size against fit time on the cannon data.

Run: ``python -m benchmarks.library_scaling [--n 1000] [--device auto] [--out DIR]``

Prints a table (library size, time to build, compile+evaluate, fit, total,
formula, check) and writes ``library_scaling.json``. Times are after imports,
on one process; compare them as ratios within one run on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import torch

from basis_library import auto_library, constant, fourier, monomials, unary
from discovery import CANNON_TRUTH, cannon_data, check, discover

SIZES = {
    "~100 (auto)": None,
    "~1,000": lambda v, t: monomials([v, t], 8) * (constant() + fourier([t], 8) + fourier([v], 3))
    + unary([v, t]),
    "~10,000": lambda v, t: monomials([v, t], 20)
    * (constant() + fourier([t], 14) + fourier([v], 8)) + unary([v, t]),
}


def run(n: int = 1000, device: str = "auto", seed: int = 0) -> list[dict[str, object]]:
    data = cannon_data(n=n, random_state=seed)
    columns = {c: data[c].to_numpy() for c in ("v", "theta")}
    rows = []
    for label, build in SIZES.items():
        t0 = time.perf_counter()
        library = auto_library(columns) if build is None else build("v", "theta")
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # The fit alone: the bootstrap is timed by benchmarks.uncertainty.
            model = discover(data, target="s", basis=library, constants={"g": 9.81},
                             device=device, random_state=seed, n_bootstrap=0)
        t2 = time.perf_counter()
        timings: dict[str, float] = dict(model.info["timings"])  # type: ignore[call-overload]
        result = check(model, CANNON_TRUTH, constants={"g": 9.81})
        rows.append({
            "library": label, "size": len(library), "evaluated": model.library["evaluated"],
            "build_s": t1 - t0, "compile_eval_s": timings["evaluate"], "fit_s": timings["fit"],
            "constants_simplify_s": timings["constants_simplify"],
            "total_s": t2 - t1, "formula": str(model.expression),
            "recovered": bool(result.symbolic), "exact": bool(result.exact),
            "coefficient": model.terms[0].coefficient if len(model.terms) == 1 else None,
            "device": model.info["device"], "n": n})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)
    rows = run(args.n, args.device, args.seed)
    header = (f"{'library':<12} {'size':>6} {'build s':>8} {'eval s':>7} {'fit s':>7} "
              f"{'const s':>7} {'total s':>8}  recovered  formula")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['library']:<12} {r['size']:>6} {r['build_s']:>8.2f} {r['compile_eval_s']:>7.2f} "
              f"{r['fit_s']:>7.2f} {r['constants_simplify_s']:>7.2f} {r['total_s']:>8.2f}  "
              f"{'yes' if r['recovered'] else 'NO':<9}  {r['formula']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "torch": torch.__version__,
            "machine": platform.machine(), "threads": torch.get_num_threads()}
    (out / "library_scaling.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(f"\nwrote {out / 'library_scaling.json'}")


if __name__ == "__main__":
    main()
