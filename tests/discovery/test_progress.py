"""A progress bar through the fit's stages: on stderr where asked or a terminal, else silent."""

import numpy as np
import pandas as pd

from discovery import discover
from discovery._progress import STAGES, Stages
from discovery.cli import main

X = np.linspace(0.5, 2, 60)
DATA = pd.DataFrame({"x": X, "y": 3 * X**2})


def test_verbose_shows_the_stages_on_stderr(capsys):
    discover(DATA, basis="poly(degree=3)", n_bootstrap=0, verbose=True)
    out, err = capsys.readouterr()
    assert out == "" and "discover:" in err and "/7" in err


def test_silent_where_stderr_is_not_a_terminal_or_when_quiet(capsys, tmp_path):
    discover(DATA, basis="poly(degree=3)", n_bootstrap=0)  # stderr is captured: no terminal
    assert "discover:" not in capsys.readouterr().err
    path = tmp_path / "d.csv"
    DATA.to_csv(path, index=False)
    assert main(["fit", str(path), "--target", "y", "--basis", "poly(degree=3)",
                 "--bootstrap", "0", "--quiet"]) == 0
    assert "discover:" not in capsys.readouterr().err


def test_stages_move_forward_only(capsys):
    bar = Stages(verbose=True)
    bar.done("search")
    bar.done("library")  # an earlier stage after a later one changes nothing
    assert bar._bar.n == STAGES.index("search") + 1
    bar.close()
