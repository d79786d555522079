import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from discovery import cannon_data
from discovery.cli import main


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "cannon.csv"
    cannon_data(n=400, random_state=3).to_csv(path, index=False)
    return path


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_recovers_and_checks_the_law(capsys):
    code, out, err = _run(capsys, "demo", "--device", "cpu")
    assert code == 0, err
    assert "v**2*sin(2*theta)/g" in out
    assert r"\frac{v^{2} \sin{\left(2 \theta \right)}}{g}" in out
    assert "PASS" in out and "candidate terms" in out and "Timings" in out
    # Issue 13's bar: g with its interval, and the verdict.
    assert re.search(r"Constants: +g = 9\.8\d* ± 0\.\d+ \(95% CI", out), out
    assert re.search(r"^Verdict: +law:", out, re.MULTILINE), out


def test_fit_writes_json_with_the_promised_keys(capsys, csv, tmp_path):
    out_json = tmp_path / "model.json"
    code, out, err = _run(capsys, "fit", str(csv), "--target", "s", "--constants", "g=9.81",
                          "--json", str(out_json), "--device", "cpu")
    assert code == 0, err
    data = json.loads(out_json.read_text())
    assert {"expression", "latex", "r2", "terms", "pareto"} <= set(data)
    assert data["expression"] == "0.101936799184506*v**2*sin(2*theta)"
    assert data["r2"] > 0.9999


def test_fit_latex_only_with_inputs_and_basis(capsys, csv):
    code, out, _ = _run(capsys, "fit", str(csv), "--target", "s", "--inputs", "v,theta",
                        "--basis", "poly(degree=3) * (1 + fourier(theta, 2))", "--latex",
                        "--constants", "g=9.81")
    assert code == 0
    assert out.strip() == r"\frac{v^{2} \sin{\left(2 \theta \right)}}{g}"


def test_rows_with_nan_or_inf_are_dropped_and_counted(capsys, tmp_path):
    frame = cannon_data(n=200, random_state=4)
    frame.loc[3, "v"] = np.nan
    frame.loc[7, "s"] = np.inf
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    code, out, _ = _run(capsys, "fit", str(path), "--target", "s")
    assert code == 0
    assert "198 used, 2 dropped" in out


def _bad_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "text.csv").write_text("v,theta,s\n1,2,3\nfast,1,2\n" + "1,2,3\n" * 20)
    (tmp_path / "few.csv").write_text("v,theta,s\n1,2,3\n2,3,4\n")
    (tmp_path / "nan.csv").write_text("v,theta,s\n" + "nan,1,2\n" * 20)
    cannon_data(n=50).to_csv(tmp_path / "ok.csv", index=False)


@pytest.mark.parametrize("argv, message", [
    (["fit", "missing.csv", "--target", "s"], "does not exist"),
    (["fit", "empty.csv", "--target", "s"], "is empty"),
    (["fit", "ok.csv", "--target", "dist"], "The target column 'dist' is not in ok.csv"),
    (["fit", "ok.csv", "--target", "ss"], "did you mean 's'"),
    (["fit", "ok.csv", "--target", "s", "--inputs", "v,phi"], "input column 'phi'"),
    (["fit", "text.csv", "--target", "s"], "Column 'v' of text.csv is not numeric: row 2"),
    (["fit", "few.csv", "--target", "s"], "2 usable row"),
    (["fit", "nan.csv", "--target", "s"], "0 usable row.*20 dropped for NaN/inf"),
    (["fit", "ok.csv", "--taget", "s"], "did you mean --target"),
    (["fti", "ok.csv"], "did you mean 'fit'"),
    (["fit", "ok.csv", "--target", "s", "--constants", "g9.81"], "NAME=VALUE"),
    (["fit", "ok.csv", "--target", "s", "--basis", "fourir(theta, 2)"], "did you mean 'fourier'"),
    (["fit", "ok.csv", "--target", "s", "--basis", "__import__('os')"], "unknown generator"),
    (["fit", "ok.csv", "--target", "s", "--device", "cuda"], "CUDA is not available|"),
])
def test_bad_input_is_one_line_and_exit_code_2(capsys, tmp_path, monkeypatch, argv, message):
    import torch

    if "cuda" in argv and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    _bad_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, *argv)
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("WARNING")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    import re

    assert re.search(message, lines[0]), lines[0]


def test_the_installed_command_runs_as_a_process(csv):
    result = subprocess.run([sys.executable, "-m", "discovery.cli", "fit", str(csv), "--target",
                             "nope"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "The target column 'nope' is not in cannon.csv" in result.stderr


def test_parquet_without_pyarrow_names_the_extra(capsys, tmp_path, monkeypatch):
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed: import fails
    code, _, err = _run(capsys, "fit", str(path), "--target", "s")
    assert code == 2
    assert "pyarrow is needed for reading Parquet" in err
    assert "pip install 'discovery-sr[parquet]'" in err


def test_frame_with_odd_column_names_still_fits():
    from discovery import discover

    frame = cannon_data(n=200).rename(columns={"v": "speed (m/s)"})
    model = discover(pd.DataFrame(frame), target="s")
    assert "speed__m_s_" in model.inputs


def test_version_and_json_on_stdout(capsys, csv, tmp_path, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("discover ")
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "fit", str(csv), "--target", "s", "--json", "-",
                          "--bootstrap", "0", "--device", "cpu")
    assert code == 0, err
    assert json.loads(out)["target"] == "s"  # stdout is the JSON alone
    assert not (tmp_path / "-").exists()


def test_every_option_has_help_and_method_lists_every_backend():
    import argparse

    from discovery.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [(name, a.option_strings) for name, sub in commands.choices.items()
               for a in sub._actions if not a.help]
    assert missing == []
    method = next(a for a in commands.choices["fit"]._actions if "--method" in a.option_strings)
    assert all(backend in method.help for backend in ("Operon", "gplearn", "PySR"))


def test_the_users_column_names_are_shown_and_accepted(capsys, tmp_path):
    frame = cannon_data(n=200, random_state=4).rename(columns={"v": "speed (m/s)",
                                                             "s": "range [m]"})
    path = tmp_path / "odd.csv"
    frame.to_csv(path, index=False)
    out_json = tmp_path / "model.json"
    code, out, err = _run(capsys, "fit", str(path), "--target", "range [m]",
                          "--constants", "g=9.81", "--bootstrap", "0", "--device", "cpu",
                          "--json", str(out_json),
                          "--truth", "speed (m/s)**2*sin(2*theta)/g")  # the user's names
    assert code == 0, out + err
    assert "speed__m_s_ is the column 'speed (m/s)'" in out
    assert r"\text{speed (m/s)}^{2}" in out  # LaTeX shows the name, not the identifier
    saved = json.loads(out_json.read_text())
    assert saved["names"] == {"speed__m_s_": "speed (m/s)", "range__m_": "range [m]"}
    assert r"\text{speed (m/s)}" in saved["latex"]


@pytest.mark.parametrize("option", ["--report", "--plot"])
def test_a_picture_without_matplotlib_is_refused_before_the_fit(capsys, csv, tmp_path,
                                                                 monkeypatch, option):
    import discovery

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran")

    monkeypatch.setattr(discovery, "discover", no_fit)
    code, out, err = _run(capsys, "fit", str(csv), "--target", "s", option,
                          str(tmp_path / "picture"))
    assert code == 2
    assert "matplotlib is needed for " + option in err
    assert "discovery-sr[plots]" in err
