"""A stand-in for discovery.backends.pysr_worker: writes a hall of fame without Julia.

Used by the subprocess-plumbing test through DISCOVERY_PYSR_WORKER.
"""

import json
import sys
from pathlib import Path

import numpy as np


def main(folder: str) -> None:
    work = Path(folder)
    spec = json.loads((work / "params.json").read_text())
    data = np.load(work / "data.npz")
    assert data["X"].shape[1] == len(spec["names"]) == 2
    assert spec["params"]["timeout_in_seconds"] == 7.0
    v, theta = spec["names"]
    (work / "hall_of_fame.csv").write_text(
        "Complexity,Loss,Equation\n"
        "1,4.5,2.1\n"
        f"5,0.31,(({v} ^ 2) * 0.066)\n"
        f"8,9.5e-05,((square({v}) * sin({theta} + {theta})) * 0.1019)\n")


if __name__ == "__main__":
    main(sys.argv[1])
