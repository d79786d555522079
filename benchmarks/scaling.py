"""How the default fit's time and peak memory grow with rows and with inputs.

Run: ``discover benchmark scaling [--device auto] [--sizes 10000,...] [--widths 10,30,100]
[--parquet | --stream] [--out DIR]``

- Rows: the cannon data (``discovery.cannon_data``) at each size, the default
  ``discover`` (intervals by the bootstrap included). With ``--parquet`` the
  data are written to a Parquet file first (row groups of a million rows)
  and the fit reads the file whole (the command-line path); with ``--stream``
  it reads one row group at a time.
- Inputs: ``y = x3·x7/x12`` with 1% noise on 2,000 rows of that many inputs,
  each uniform on [1, 5] (issue 16's wide case); the rest are irrelevant.

Each case runs in its own process, so its peak memory is its own: the
process's maximum resident set size (``ru_maxrss``; a Parquet case's file is
written by a further process, so the peak is the fit's, reading included), and on CUDA also torch's
peak allocation on the device. Times are wall seconds of ``discover`` after
imports. Writes ``results.json``, ``summary.md`` and ``scaling.png``; compare
times as ratios within one run on a shared machine.
"""

from __future__ import annotations

import json
import multiprocessing
import platform
import resource
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .feynman.runner import run_isolated

__all__ = ["ROWS", "WIDTHS", "run_case", "run_scaling", "write_cannon", "write_scaling"]

ROWS = (10_000, 100_000, 200_000, 1_000_000)
WIDTHS = (15, 30, 100)
#: The wide case's law and its relevant inputs.
WIDE_TRUTH = "x3*x7/x12"


def _peak_gb() -> float:
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def write_cannon(n: int, seed: int, path: str) -> None:
    """The cannon data of ``n`` shots as a Parquet file of row groups of a million rows."""
    from discovery import cannon_data

    cannon_data(n, random_state=seed).to_parquet(path, row_group_size=1_000_000)


def run_case(job: dict[str, Any]) -> dict[str, Any]:
    """One case (in a child process): build the data, fit, measure."""
    import numpy as np
    import pandas as pd
    import torch

    from discovery import CANNON_TRUTH, cannon_data, check, discover

    seed = int(job["seed"])
    if job["kind"] == "rows":
        target, truth, constants = "s", CANNON_TRUTH, {"g": 9.81}
        if job.get("parquet"):
            # Written by another process, so this one's peak memory is the fit's
            # alone (the rows never enter it whole when streamed).
            data: Any = str(Path(tempfile.mkdtemp()) / "cannon.parquet")
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                pool.submit(write_cannon, int(job["size"]), seed, data).result()
        else:
            data = cannon_data(int(job["size"]), random_state=seed)
        stream: bool | None = bool(job.get("stream")) if job.get("parquet") else None
    else:
        rng = np.random.default_rng(seed)
        n = 2000
        columns = {f"x{i}": rng.uniform(1, 5, n) for i in range(1, int(job["size"]) + 1)}
        y = columns["x3"] * columns["x7"] / columns["x12"]
        y = y + rng.normal(0, 0.01 * float(np.sqrt(np.mean(y**2))), n)
        data = pd.DataFrame({**columns, "y": y})
        target, truth, constants = "y", WIDE_TRUTH, {}
        stream = None
    before = _peak_gb()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    model = discover(data, target=target, constants=constants, device=job["device"],
                     stream=stream)
    seconds = time.perf_counter() - started
    result = check(model, truth, constants=constants)
    screening = model.metrics.get("screening")
    return {"seconds": seconds, "peak_gb": _peak_gb(), "peak_before_fit_gb": before,
            "gpu_peak_gb": (torch.cuda.max_memory_allocated() / 1e9
                            if torch.cuda.is_available() else None),
            "device": model.info.get("device"), "expression": str(model.expression),
            "verdict": model.verdict.get("status"), "symbolic": bool(result.symbolic),
            "rows": model.info.get("rows"), "n_terms": len(model.terms),
            "kept": screening.get("kept") if isinstance(screening, dict) else None,
            "status": "ok"}


def run_scaling(*, sizes: Sequence[int] = ROWS, widths: Sequence[int] = WIDTHS,
                device: str = "auto", seed: int = 0, parquet: bool = False,
                stream: bool = False, limit_s: float = 600.0) -> list[dict[str, Any]]:
    """Every case, one child process each, in order; a case past ``limit_s`` is a timeout.

    With ``parquet`` the rows cases read a Parquet file (of row groups of a
    million rows), whole in memory, or one row group at a time with ``stream``.
    """
    jobs = ([{"kind": "rows", "size": n, "parquet": parquet or stream, "stream": stream}
             for n in sizes]
            + [{"kind": "inputs", "size": d} for d in widths])
    records = []
    for job in jobs:
        job = {**job, "device": device, "seed": seed}
        record = {**job, **run_isolated("benchmarks.scaling:run_case", job, limit_s)}
        records.append(record)
        print(_line(record), flush=True)
    return records


def _case(r: dict[str, Any]) -> str:
    if r["kind"] != "rows":
        return f"{r['size']:,} inputs"
    how = " (Parquet, streamed)" if r.get("stream") else " (Parquet)" if r.get("parquet") else ""
    return f"{r['size']:,} rows{how}"


def _line(r: dict[str, Any]) -> str:
    what = f"{_case(r):>30}"
    if r.get("status") != "ok":
        return f"{what}: {r.get('status')}"
    gpu = f", GPU peak {r['gpu_peak_gb']:.2f} GB" if r.get("gpu_peak_gb") is not None else ""
    return (f"{what}: {r['seconds']:7.1f} s, peak {r['peak_gb']:.2f} GB{gpu}, {r['verdict']}, "
            f"{'the law' if r['symbolic'] else 'not the law'}: {r['expression'][:70]}")


def summary(records: list[dict[str, Any]]) -> str:
    """A markdown table of the cases."""
    head = ("| case | seconds | peak memory (GB) | GPU peak (GB) | verdict | law? | formula |\n"
            "|---|---:|---:|---:|---|---|---|")
    lines = [head]
    for r in records:
        what = _case(r)
        if r.get("status") != "ok":
            lines.append(f"| {what} | {r.get('status')} | | | | | |")
            continue
        gpu = f"{r['gpu_peak_gb']:.2f}" if r.get("gpu_peak_gb") is not None else "–"
        lines.append(f"| {what} | {r['seconds']:.1f} | {r['peak_gb']:.2f} | {gpu} | "
                     f"{r['verdict']} | {'yes' if r['symbolic'] else 'no'} | "
                     f"`{r['expression']}` |")
    return "\n".join(lines)


def write_scaling(records: list[dict[str, Any]], out: Path) -> list[Path]:
    """``results.json``, ``summary.md`` and (with matplotlib) ``scaling.png`` in ``out``."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.platform(), "processor": platform.processor(),
            "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            "torch": torch.__version__}
    paths = [out / "results.json", out / "summary.md"]
    paths[0].write_text(json.dumps({"meta": meta, "records": records}, indent=2, default=str))
    paths[1].write_text(f"# Scaling\n\n{meta}\n\n{summary(records)}\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return paths
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, kind, label in ((axes[0], "rows", "rows (cannon, 2 inputs)"),
                            (axes[1], "inputs", "inputs (2,000 rows, 3 relevant)")):
        done = [r for r in records if r["kind"] == kind and r.get("status") == "ok"]
        if not done:
            ax.set_visible(False)
            continue
        x = [r["size"] for r in done]
        ax.plot(x, [r["seconds"] for r in done], "o-", color="tab:blue", label="seconds")
        ax.set_xscale("log")
        ax.set_xticks(x, [f"{v:,}" for v in x], rotation=30)
        ax.minorticks_off()
        ax.set_xlabel(label)
        ax.set_ylabel("seconds", color="tab:blue")
        twin = ax.twinx()
        twin.plot(x, [r["peak_gb"] for r in done], "s--", color="tab:red", label="peak GB")
        twin.set_ylabel("peak memory (GB)", color="tab:red")
        twin.set_ylim(bottom=0)
        ax.set_ylim(bottom=0)
    fig.suptitle(f"discover, default fit, on {meta['cuda'] or 'CPU'}")
    fig.tight_layout()
    paths.append(out / "scaling.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths
