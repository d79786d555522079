"""Job functions for the runner tests (importable by spawned workers)."""

import time


def sleepy(job):
    time.sleep(job["sleep"])
    return {"status": "ok", "slept": job["sleep"]}


def failing(job):
    raise ValueError("broken job")
