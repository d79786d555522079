"""Operon + polish on the cannon data over several seeds: how often is the law found?

Run: ``python -m benchmarks.operon_seeds [--seeds 5] [--time-limit 20] [--out DIR]``

Prints one row a seed (search time, total time, the expression Operon found, the
polished expression, SRBench match) and writes ``operon_seeds.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from discovery import CANNON_TRUTH, cannon_data, check, discover


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)
    data = cannon_data(n=args.n, random_state=0)
    rows = []
    print(f"{'seed':>4} {'search s':>8} {'total s':>7}  match  polished  |  found by Operon")
    for seed in range(args.seeds):
        started = time.perf_counter()
        model = discover(data, target="s", method="operon", constants={"g": 9.81},
                         random_state=seed, time_limit=args.time_limit)
        total = time.perf_counter() - started
        match = bool(check(model, CANNON_TRUTH, constants={"g": 9.81}).symbolic)
        rows.append({"seed": seed, "search_s": model.info["backend_seconds"], "total_s": total,
                     "match": match, "polished": str(model.expression),
                     "found": str(model.raw_expression)})
        print(f"{seed:>4} {rows[-1]['search_s']:>8.1f} {total:>7.1f}  {'yes' if match else 'no':<5}"
              f"  {model.expression}  |  {model.raw_expression}")
    found = sum(1 for r in rows if r["match"])
    print(f"\nv² sin(2θ)/g recovered in {found} of {len(rows)} seeds; "
          f"time limit {args.time_limit:g} s, {args.n} shots")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "operon_seeds.json").write_text(json.dumps(
        {"time_limit": args.time_limit, "n": args.n, "found": found, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
