"""Packaging: pyproject.toml and environment.yml list the same dependencies; CLI basics."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

from tests.conftest import REPO


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[; ]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    py = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in py["dependencies"]} | {_name(r) for r in py["optional-dependencies"]["dev"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    # PyPI-only packages (not on conda-forge) go in the pip: section
    pip = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    conda |= {_name(d) for d in (pip[0]["pip"] if pip else []) if not d.startswith("-e")}
    assert conda == wanted, f"only in pyproject: {wanted - conda}; only in environment.yml: {conda - wanted}"


def test_environment_yml_pins_same_lower_bounds():
    py = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = {_name(r): r.replace(" ", "") for r in py["dependencies"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    for d in env["dependencies"]:
        if isinstance(d, str) and _name(d) in reqs:
            assert d.replace(" ", "").lower() == reqs[_name(d)].lower()


def test_cli_version():
    import hna

    out = subprocess.run([sys.executable, "-m", "hna", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.strip() == f"hna {hna.__version__}"


def test_cli_error_is_one_line_without_traceback():
    out = subprocess.run([sys.executable, "-m", "hna", "population", "--footprint", "E12000099"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0
    assert "E12000009" in out.stderr
