"""Child process of :func:`benchmarks.feynman.runner.run_isolated`: one job, stdin to stdout.

``python -m benchmarks._isolated module:function`` reads a job (JSON) on
stdin, calls the function and writes its record (JSON) as the last line of
stdout. It imports nothing heavy itself, so start-up costs only the target's
own imports.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any


def run_one(function: Callable[[dict[str, Any]], dict[str, Any]], job: dict[str, Any]
            ) -> dict[str, Any]:
    """``function(job)`` with its wall time; an exception becomes an error record."""
    started = time.perf_counter()
    try:
        record = function(job)
    except Exception as exc:  # noqa: BLE001 - any failure of one job is a result
        record = {"status": f"error: {type(exc).__name__}: {exc}"[:500]}
    record.setdefault("wall_s", time.perf_counter() - started)
    return record


def main(target: str) -> None:
    module, _, name = target.partition(":")
    function = getattr(importlib.import_module(module), name)
    record = run_one(function, json.loads(sys.stdin.read()))
    sys.stdout.write("\n" + json.dumps(record, default=str) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
