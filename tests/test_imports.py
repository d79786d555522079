"""Importing the packages has no side effects."""

import subprocess
import sys

CODE = """
import logging, sys
before = list(logging.getLogger().handlers)
import basis_library, discovery
heavy = sorted(m for m in ("pysr", "juliacall", "pyoperon", "matplotlib") if m in sys.modules)
assert not heavy, heavy
assert logging.getLogger().handlers == before, logging.getLogger().handlers
assert not logging.getLogger("discovery").handlers
print("ok")
"""


def test_import_starts_nothing_prints_nothing_and_adds_no_handlers():
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"
    assert result.stderr == ""


def test_packages_export_their_public_names():
    import basis_library
    import discovery

    for package in (basis_library, discovery):
        for name in package.__all__:
            assert hasattr(package, name), f"{package.__name__}.{name}"


def test_discovery_and_basis_library_never_import_benchmarks():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for package in ("discovery", "basis_library"):
        for source in (root / package).rglob("*.py"):
            text = source.read_text()
            assert "import benchmarks" not in text and "from benchmarks" not in text, source


def test_the_version_is_the_installed_distributions():
    from importlib.metadata import version

    import discovery

    assert discovery.__version__ == version("discovery-sr")


def test_the_license_the_metadata_names_ships():
    from importlib.metadata import metadata
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    assert metadata("discovery-sr")["License-Expression"] == "MIT"
    assert "MIT License" in (root / "LICENSE").read_text()
