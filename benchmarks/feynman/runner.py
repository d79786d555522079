"""Run many jobs in worker processes, each under a time limit enforced from outside.

Workers are long-lived processes (started with ``spawn``, so torch and sympy
load once per worker, not once per job). The parent sends one job at a time
and waits; a job that overstays its limit has its worker killed and replaced,
and is recorded as a timeout, so a hung simplify or backend cannot stall the
suite. Every finished job is appended to a JSON-lines file in one ``write``
on a descriptor opened with ``O_APPEND`` and then fsynced, so an interrupted
run loses nothing already reported and a rerun skips what is done.

:func:`run_dask` runs the same jobs on a Dask distributed cluster: each task
starts the job in a child Python process on its worker and kills it at the
limit, so the limit holds there too; results come back to the caller, which
appends them to the same file.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .._isolated import run_one

__all__ = ["ResultsFile", "run_pool", "run_dask", "run_isolated", "run_resumable"]

Job = dict[str, Any]
Record = dict[str, Any]


class ResultsFile:
    """An append-only JSON-lines file of records, each with a ``key``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def records(self) -> list[Record]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut short by a kill mid-write
        return out

    def done(self) -> set[str]:
        return {r["key"] for r in self.records() if "key" in r}

    def append(self, record: Record) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = (json.dumps(record, default=str) + "\n").encode()
        if self.path.exists() and self.path.stat().st_size:
            with open(self.path, "rb") as handle:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":  # a line torn by a kill: start afresh
                    data = b"\n" + data
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)


def _worker(conn: Connection, target: Callable[[Job], Record]) -> None:
    conn.send("ready")  # start-up (imports) does not count against a job's limit
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(run_one(target, job))


class _Slot:
    def __init__(self, ctx: Any, target: Callable[[Job], Record]) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, target), daemon=True)
        self.process.start()
        self.job: Job | None = None
        self.started = 0.0
        self.ready = False

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()


def run_pool(jobs: Iterable[Job], target: Callable[[Job], Record], *, workers: int,
             limit_s: Callable[[Job], float], on_result: Callable[[Job, Record], None]) -> None:
    """Run ``target(job)`` for every job on ``workers`` processes.

    ``target`` must be importable by name (a module-level function). A job
    still running ``limit_s(job)`` seconds after it was sent is recorded as
    ``{"status": "timeout"}``.
    """
    pending = list(jobs)
    if not pending:
        return
    ctx = mp.get_context("spawn")
    slots = [_Slot(ctx, target) for _ in range(max(1, min(workers, len(pending))))]
    try:
        while pending or any(s.job is not None for s in slots):
            for slot in slots:
                if slot.ready and slot.job is None and pending:
                    slot.job, slot.started = pending.pop(0), time.monotonic()
                    slot.conn.send(slot.job)
            watched = [s.conn for s in slots if s.job is not None or not s.ready]
            ready = wait(watched, timeout=0.5)
            now = time.monotonic()
            for i, slot in enumerate(slots):
                if not slot.ready:
                    if slot.conn in ready:
                        try:
                            slot.ready = slot.conn.recv() == "ready"
                        except EOFError:
                            slots[i] = _Slot(ctx, target)
                    continue
                if slot.job is None:
                    continue
                if slot.conn in ready:
                    try:
                        record = slot.conn.recv()
                    except EOFError:  # the worker died (out of memory, a crash)
                        record = {"status": "error: worker process died"}
                        slot.stop(kill=True)
                        slots[i] = _Slot(ctx, target)
                    job, slot.job = slot.job, None
                    on_result(job, record)
                elif now - slot.started > limit_s(slot.job):
                    job = slot.job
                    slot.stop(kill=True)
                    slots[i] = _Slot(ctx, target)
                    on_result(job, {"status": "timeout", "wall_s": now - slot.started})
    finally:
        for slot in slots:
            slot.stop()


def _name_of(target: Callable[[Job], Record]) -> str:
    return f"{target.__module__}:{target.__qualname__}"


def run_isolated(target: str, job: Job, limit_s: float) -> Record:
    """``target(job)`` (``"module:function"``) in a child Python process, killed at ``limit_s``.

    Used on Dask workers, whose processes may be daemonic (so cannot use
    :mod:`multiprocessing` children); a plain subprocess works everywhere.
    """
    started = time.perf_counter()
    # The child sees the modules its parent sees.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        done = subprocess.run([sys.executable, "-m", "benchmarks._isolated", target],
                              input=json.dumps(job, default=str), capture_output=True,
                              text=True, timeout=limit_s, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "wall_s": time.perf_counter() - started}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": f"error: worker process failed: {tail}"[:500],
                "wall_s": time.perf_counter() - started}
    record: Record = json.loads(lines[-1])
    return record


def run_dask(jobs: Iterable[Job], target: Callable[[Job], Record], *, address: str,
             limit_s: Callable[[Job], float], on_result: Callable[[Job, Record], None]) -> None:
    """Run ``target(job)`` for every job on the Dask cluster at ``address``.

    The workers need this package installed (same version). Each job runs in
    a child process on its worker under ``limit_s(job)`` seconds; results are
    reported through ``on_result`` in the caller's process as they finish.
    """
    from discovery._optional import optional_import

    distributed = optional_import("distributed", "dask", purpose="--dask")
    pending = list(jobs)
    if not pending:
        return
    name = _name_of(target)
    with distributed.Client(address) as client:
        futures = {client.submit(run_isolated, name, job, limit_s(job), pure=False): job
                   for job in pending}
        for future in distributed.as_completed(futures):
            job = futures[future]
            try:
                record = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker is one failed job
                record = {"status": f"error: dask: {type(exc).__name__}: {exc}"[:500]}
            on_result(job, record)


def run_resumable(jobs: list[Job], target: Callable[[Job], Record], *, results: ResultsFile,
                  workers: int, limit_s: Callable[[Job], float], desc: str,
                  progress: bool = True, dask: str | None = None,
                  solved: Callable[[Record], bool] | None = None) -> list[Record]:
    """Run every job whose ``key`` is not yet in ``results``; return the records of ``jobs``.

    A progress bar counts done runs (and, with ``solved``, the solved ones);
    each record is appended as it arrives, so an interrupted run resumes.
    """
    from tqdm.auto import tqdm

    keys = {j["key"] for j in jobs}
    done = results.done()
    todo = [j for j in jobs if j["key"] not in done]
    if len(todo) < len(jobs):
        # Said, so that results measured before are never taken for a new measurement.
        print(f"{len(jobs) - len(todo)} of {len(jobs)} runs are already in {results.path}: "
              "their records are reused, not run again (a new --out folder measures all).",
              file=sys.stderr)
    count = sum(1 for r in results.records() if r["key"] in keys and solved(r)) if solved else 0
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc=desc, disable=not progress,
               unit="run")
    if solved:
        bar.set_postfix(solved=count)

    def on_result(job: Job, record: Record) -> None:
        nonlocal count
        results.append({**job, **record})
        bar.update(1)
        if solved:
            count += bool(solved(record))
            bar.set_postfix(solved=count)

    try:
        if dask:
            run_dask(todo, target, address=dask, limit_s=limit_s, on_result=on_result)
        else:
            run_pool(todo, target, workers=workers, limit_s=limit_s, on_result=on_result)
    finally:
        bar.close()
    return [r for r in results.records() if r["key"] in keys]
