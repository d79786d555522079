"""Child process for method='pysr': fit PySRRegressor, write hall_of_fame.csv.

Run as ``python -m discovery.backends.pysr_worker FOLDER``; FOLDER holds data.npz and
params.json. Kept apart so that Julia never starts in the caller's process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(folder: str) -> int:
    import numpy as np
    from pysr import PySRRegressor

    work = Path(folder)
    spec = json.loads((work / "params.json").read_text())
    data = np.load(work / "data.npz")
    model = PySRRegressor(**spec["params"], output_directory=str(work / "pysr"))
    model.fit(data["X"], data["y"], variable_names=spec["names"])
    table = model.equations_[["complexity", "loss", "equation"]]
    table.columns = ["Complexity", "Loss", "Equation"]
    table.to_csv(work / "hall_of_fame.csv", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
