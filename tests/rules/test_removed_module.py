"""FX039: a module the installing release no longer has, whether the project declares its distribution or
another dependency brings it in (a plugin named after it: fastmcp brings mcp)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import fixer

MAIN = 'from fastapi import FastAPI\nfrom mcp.server.fastmcp import FastMCP\n\nserver = FastMCP("todo")\napp = FastAPI()\n'


def _project(root: Path, requirements: str) -> Path:
    (root / "app").mkdir()
    (root / "app/__init__.py").write_text("")
    (root / "app/main.py").write_text(MAIN)
    (root / "requirements.txt").write_text(requirements)
    return root


@pytest.mark.parametrize(("before", "after"), [
    ("fastapi\nmcp>=1.2\n", "fastapi\nmcp>=1.2,<2\n"),  # declared: its range is capped
    ("fastapi\nfastmcp>=0.1\n", "fastapi\nfastmcp>=0.1\nmcp<2\n"),  # brought by fastmcp: a line of its own
])
def test_the_cap_goes_where_the_install_takes_the_distribution(tmp_path: Path, before: str, after: str) -> None:
    root = _project(tmp_path, before)
    result = fixer("dry-run", ".", cwd=root)
    assert result.returncode == 1
    assert "No module named 'mcp.server.fastmcp'" in result.stderr.decode()
    assert fixer("apply", ".", cwd=root).returncode == 0
    assert (root / "requirements.txt").read_text() == after
    again = fixer("dry-run", ".", cwd=root)
    assert (again.returncode, again.stdout) == (0, b"")


@pytest.mark.parametrize("requirements", ["fastapi\nmcp>=1.2,<2\n", "fastapi\nmcp>=2\n"])
def test_left_alone_where_the_range_has_the_module_or_none_has_it(tmp_path: Path, requirements: str) -> None:
    # mcp>=2: no release in range has the module; porting the code is a person's job (reported, not edited).
    root = _project(tmp_path, requirements)
    assert fixer("dry-run", ".", cwd=root).stdout == b""


def _named(root: Path, requirements: str) -> Path:
    """mcp 1.x re-exported FastMCP from mcp.server; mcp 2 keeps the module and drops the name."""
    _project(root, requirements)
    (root / "app/main.py").write_text(MAIN.replace("from mcp.server.fastmcp import FastMCP", "from mcp.server import FastMCP"))
    return root


@pytest.mark.parametrize(("before", "after"), [
    ("fastapi\nmcp>=1.2\n", "fastapi\nmcp>=1.2,<2\n"),
    ("fastapi\nfastmcp>=0.1\n", "fastapi\nfastmcp>=0.1\nmcp<2\n"),
])
def test_a_name_the_new_major_removed_is_capped_like_a_module(tmp_path: Path, before: str, after: str) -> None:
    root = _named(tmp_path, before)
    said = fixer("dry-run", ".", "--report", tmp_path / "report.json", cwd=root).stderr.decode()
    assert "cannot import name 'FastMCP' from 'mcp.server'" in said and "fixed by FX039" in said, said
    assert "the last release with it is mcp 1.30.0" in (tmp_path / "report.json").read_text()
    assert fixer("apply", ".", cwd=root).returncode == 0
    assert (root / "requirements.txt").read_text() == after
    again = fixer("dry-run", ".", cwd=root)
    assert (again.returncode, again.stdout) == (0, b"")


def test_a_removed_name_no_release_in_range_has_is_reported_not_capped(tmp_path: Path) -> None:
    root = _named(tmp_path, "fastapi\nmcp>=2\n")
    result = fixer("dry-run", ".", cwd=root)
    assert result.stdout == b""
    assert "cannot import name 'FastMCP' from 'mcp.server'" in result.stderr.decode()
    assert (root / "requirements.txt").read_text() == "fastapi\nmcp>=2\n"


def test_no_cap_another_installing_package_forbids(tmp_path: Path) -> None:
    """pydantic 1's ConfigError is gone from pydantic 2, but the fastapi that installs requires pydantic>=2: a
    pydantic<2 cap would leave the install nothing to pick. Reported, offered as unsafe, never written twice."""
    (tmp_path / "main.py").write_text("from fastapi import FastAPI\nfrom pydantic import ConfigError\napp = FastAPI()\n")
    (tmp_path / "README.md").write_text("uvicorn main:app\n")
    (tmp_path / "requirements.txt").write_text("fastapi\nuvicorn\npydantic\n")
    result = fixer("dry-run", ".", "--report", tmp_path / "report.json", cwd=tmp_path)
    assert result.stdout == b""
    assert "FX039 unsafe fix (--unsafe-fixes): pydantic" in result.stderr.decode()
    assert "requires pydantic>=2" in (tmp_path / "report.json").read_text()
