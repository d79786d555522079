"""``discover benchmark``: registered into the ``discover`` command as a plugin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from discovery.cli import comma_list

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``benchmark`` subcommand (imports stay light until it runs)."""
    bench = subparsers.add_parser(
        "benchmark", help="compare with baselines: 'cannon' or a CSV/Parquet file",
        description="Compare discovery with nearest neighbour, linear, MLP (and, for the "
                    "cannon, the study's hand-picked basis), in and out of range.")
    bench.set_defaults(handler=_run)
    bench.add_argument("what", help="'cannon', 'feynman', 'nguyen', 'honesty', 'printing', "
                                    "'scaling', 'ode' (dynamics, side by side with PySINDy), "
                                    "or a CSV/Parquet file")
    bench.add_argument("--target", help="target column (for a file)")
    bench.add_argument("--inputs", help="comma-separated input columns (for a file)")
    bench.add_argument("--extrapolate", metavar="COL",
                       help="also train on the low 80%% of COL and test on the rest")
    bench.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                       help="where the fits run (default auto: CUDA if present)")
    bench.add_argument("--n", type=int, default=1000, help="shots (cannon; default 1000)")
    bench.add_argument("--seed", type=int, default=0,
                       help="random seed of a cannon or file run (default 0; feynman and "
                            "nguyen take --seeds)")
    bench.add_argument("--out", default="benchmark-out", help="output folder")
    bench.add_argument("--sizes", help="cannon: shot counts for sample efficiency, e.g. "
                                       "30,100,300,1000; scaling: rows (default "
                                       "10000,100000,200000,1000000)")
    bench.add_argument("--widths", help="scaling: input counts, at least 12 (default 15,30,100)")
    bench.add_argument("--parquet", action="store_true",
                       help="scaling: the rows cases read their data from a Parquet file")
    bench.add_argument("--stream", action="store_true",
                       help="scaling: the rows cases stream their Parquet file one row group "
                            "at a time (implies --parquet)")
    bench.add_argument("--repeats", type=int, default=3, help="seeds per size (default 3)")
    bench.add_argument("--methods", default="sparse",
                       help="this project's methods to compare: sparse,operon,gplearn,pysr "
                            "(default sparse)")
    bench.add_argument("--time-limit", type=float, metavar="S",
                       help="seconds for each genetic search (default 20 Operon, 60 PySR)")
    bench.add_argument("--set", default="feynman",
                       help="feynman: feynman|bonus|srsd-easy|srsd-medium|srsd-hard|all")
    bench.add_argument("--noise", default="0",
                       help="feynman, ode: noise levels, e.g. 0,0.001,0.01,0.1")
    bench.add_argument("--seeds", type=int,
                       help="feynman, nguyen: seeds per problem (default 1; nguyen 10)")
    bench.add_argument("--n-train", type=int, default=1000, help="feynman: training points")
    bench.add_argument("--units", action="store_true",
                       help="feynman, bonus: declare every variable's unit (AI Feynman's "
                            "units table)")
    bench.add_argument("--workers", type=int, default=2,
                       help="feynman, nguyen, honesty, printing: worker processes")
    bench.add_argument("--dask", metavar="ADDRESS",
                       help="feynman: run on the Dask cluster at ADDRESS (tcp://host:8786)")
    bench.add_argument("--problems", metavar="PATTERN",
                       help="feynman, nguyen: globs on names, a,b; honesty: on run keys; "
                            "ode: system names")
    bench.add_argument("--quick", action="store_true",
                       help="short training loops and 10^5 prediction points (smoke tests)")


def _sizes(text: str | None, option: str = "--sizes", least: int = 10) -> list[int]:
    from discovery import DiscoveryError

    if not text:
        return []
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise DiscoveryError(f"{option} expects comma-separated integers; got {text!r}.") from exc
    if any(s < least for s in sizes):
        raise DiscoveryError(f"{option} must each be at least {least}; got {text!r}.")
    return sizes


def _run(args: argparse.Namespace) -> int:
    from discovery import DiscoveryError

    out = Path(args.out)
    progress = sys.stderr.isatty()
    if args.what == "feynman":
        return _feynman(args, out, progress)
    if args.what == "nguyen":
        return _nguyen(args, out, progress)
    if args.what == "honesty":
        return _honesty(args, out, progress)
    if args.what == "printing":
        return _printing(args, out, progress)
    if args.what == "ode":
        return _ode(args, out)
    if args.what == "scaling":
        from .scaling import ROWS, WIDTHS, run_scaling, write_scaling
        from .scaling import summary as scaling_summary

        records = run_scaling(sizes=_sizes(args.sizes) or ROWS,
                              widths=_sizes(args.widths, "--widths", 12) or WIDTHS,
                              device=args.device, seed=args.seed,
                              parquet=args.parquet or args.stream, stream=args.stream)
        print(scaling_summary(records))
        print("\nwrote " + ", ".join(str(p) for p in write_scaling(records, out)))
        return 0
    if args.what == "cannon":
        from .cannon import run_cannon, sample_efficiency, summary, write_cannon

        if args.n < 10:
            raise DiscoveryError(f"--n must be at least 10; got {args.n}.")
        sizes = _sizes(args.sizes)
        methods = _methods(args.methods)
        run = run_cannon(args.n, seed=args.seed, device=args.device, quick=args.quick,
                         n_predict=100_000 if args.quick else 1_000_000, progress=progress,
                         methods=methods, time_limit=args.time_limit)
        print(f"Cannon study: {args.n} shots, seed {args.seed}, device {run.meta['device']}; "
              f"extrapolation: v in [10, 20]; predict s: {run.meta['n_predict']:,} points")
        print(summary(run))
        efficiency = sample_efficiency(sizes, args.repeats, device=args.device,
                                       quick=args.quick, progress=progress) if sizes else None
        paths = write_cannon(run, out, efficiency)
    else:
        from .dataset import run_dataset
        from .report import format_table

        if not args.target:
            raise DiscoveryError("benchmark on a file needs --target COL.")
        inputs = comma_list(args.inputs) or None
        rows, paths = run_dataset(args.what, args.target, inputs=inputs,
                                  extrapolate=args.extrapolate, seed=args.seed,
                                  device=args.device, quick=args.quick, out=out)
        print(format_table(rows))
    print("\nwrote " + ", ".join(str(p) for p in paths))
    return 0


def _methods(text: str) -> list[str]:
    from discovery import METHODS, DiscoveryError

    methods = comma_list(text)
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise DiscoveryError(f"--methods: unknown {', '.join(unknown)}; expected some of "
                             f"{', '.join(METHODS)}.")
    return methods


def _feynman(args: argparse.Namespace, out: Path, progress: bool) -> int:
    from discovery import DiscoveryError

    from .feynman import load_problems
    from .feynman.suite import run_suite, summarise, write_summary

    try:
        noises = [float(x) for x in args.noise.split(",") if x.strip()]
    except ValueError as exc:
        raise DiscoveryError(f"--noise expects comma-separated numbers; got {args.noise!r}.") \
            from exc
    methods = _methods(args.methods)
    problems = load_problems(args.set, args.problems)
    if not problems:
        raise DiscoveryError(f"No problem of set {args.set!r} matches {args.problems!r}.")
    time_limit = 30.0 if args.time_limit is None else args.time_limit
    records = run_suite(problems, noises=noises, methods=methods, seeds=args.seeds or 1,
                        n_train=args.n_train, time_limit=time_limit, workers=args.workers,
                        out=out, progress=progress, dask=args.dask, units=args.units)
    print(summarise(records).to_string(index=False, float_format=lambda x: f"{x:.1f}",
                                       formatters={"noise": "{:g}".format}))
    paths = [out / "results.jsonl", *write_summary(records, out)]
    print("\nwrote " + ", ".join(str(p) for p in paths))
    return 0


def _nguyen(args: argparse.Namespace, out: Path, progress: bool) -> int:
    from discovery import DiscoveryError

    from .nguyen import run_nguyen, select, summarise, write_summary

    problems = select(args.problems)
    if not problems:
        raise DiscoveryError(f"No Nguyen problem matches {args.problems!r}.")
    seeds = 10 if args.seeds is None else args.seeds
    if seeds < 1:
        raise DiscoveryError(f"--seeds must be at least 1; got {seeds}.")
    records = run_nguyen(problems, seeds=seeds, workers=args.workers, out=out,
                         progress=progress)
    table = summarise(records)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    print(f"\nMean exact recovery: {table['recovered %'].mean():.1f}% "
          f"(NGGP 92.3, DSR 83.6, PySR 74.4)")
    paths = [out / "results.jsonl", *write_summary(records, out)]
    print("\nwrote " + ", ".join(str(p) for p in paths))
    return 0


def _ode(args: argparse.Namespace, out: Path) -> int:
    from discovery import DiscoveryError

    from .ode import SYSTEMS, run_ode_benchmark, summarise, write_summary

    try:
        noises = [float(x) for x in args.noise.split(",") if x.strip()]
    except ValueError as exc:
        raise DiscoveryError(f"--noise expects comma-separated numbers; got {args.noise!r}.") \
            from exc
    names = comma_list(args.problems) or None
    unknown = sorted(set(names or []) - {s.name for s in SYSTEMS})
    if unknown:
        raise DiscoveryError(f"--problems: unknown systems {', '.join(unknown)}; known: "
                             f"{', '.join(s.name for s in SYSTEMS)}.")
    results = out / "results.jsonl"
    if results.exists():
        results.unlink()
    records = run_ode_benchmark(noises, seeds=args.seeds or 1, out=out, names=names,
                                progress=True)
    print(summarise(records).to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    paths = [results, *write_summary(records, out)]
    print("\nwrote " + ", ".join(str(p) for p in paths))
    return 0


def _printing(args: argparse.Namespace, out: Path, progress: bool) -> int:
    from .printing import run_printing, summarise, write_summary

    records = run_printing(workers=args.workers, out=out, progress=progress)
    table = summarise(records)
    print(table.drop(columns=["raw"]).to_string(index=False))
    paths = [out / "results.jsonl", *write_summary(records, out)]
    print("\nwrote " + ", ".join(str(p) for p in paths))
    return 0


def _honesty(args: argparse.Namespace, out: Path, progress: bool) -> int:
    from discovery import DiscoveryError

    from .honesty import run_honesty, summarise, write_summary

    records = run_honesty(workers=args.workers, out=out, progress=progress,
                          pattern=args.problems)
    if not records:
        raise DiscoveryError(f"No honesty run matches {args.problems!r}; keys look like "
                             "'constants|3|noise=0.01' and 'noise|7'.")
    print(summarise(records).to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    paths = [out / "results.jsonl", *write_summary(records, out)]
    print("\nwrote " + ", ".join(str(p) for p in paths))
    return 0
