"""Settings files found and read as ruff finds and reads its own (fixer.discover.config)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli_helpers import fixer
from fixer.discover.config import Config, ConfigError, PerFileIgnore, find, load

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A repository whose backend (with its own pyproject.toml, no [tool.fixer]) sits in a subfolder."""
    (tmp_path / ".git").mkdir()
    backend = Path(shutil.copytree(SEED / "broken" / "backend", tmp_path / "services" / "backend"))
    (backend / "pyproject.toml").write_text('[project]\nname = "backend"\nversion = "0"\n')
    return tmp_path



def test_closest_file_with_fixers_settings_wins(repo: Path) -> None:
    backend = repo / "services" / "backend"
    assert find(backend) is None
    (repo / "pyproject.toml").write_text('[tool.fixer]\nignore = ["FX004"]\n')
    assert find(backend) == (repo / "pyproject.toml").resolve()  # the service's own pyproject does not hide it
    (repo / "services" / "fixer.toml").write_text('ignore = ["FX001"]\n')  # no table header in fixer.toml
    assert find(backend) == (repo / "services" / "fixer.toml").resolve()
    assert load(backend).ignore == ["FX001"]
    (repo / "services" / ".fixer.toml").write_text('ignore = ["FX002"]\n')  # as .ruff.toml beats ruff.toml
    assert load(backend).ignore == ["FX002"]
    (backend / "pyproject.toml").write_text('[project]\nname = "b"\n[tool.fixer]\nselect = ["FX001"]\n')
    assert load(backend).select == ["FX001"] and load(backend).source == (backend / "pyproject.toml").resolve()


def test_config_isolated_and_overrides(repo: Path) -> None:
    backend = repo / "services" / "backend"
    (repo / "pyproject.toml").write_text('[tool.fixer]\nignore = ["FX004"]\n')
    other = repo / "ci.toml"
    other.write_text('select = ["FX001"]\n')
    assert load(backend, str(other)).select == ["FX001"] and load(backend, str(other)).ignore == []
    assert load(backend, isolated=True) == Config()
    assert load(backend, overrides=('select = ["FX002"]',)).select == ["FX002"]
    assert load(backend, overrides=('select = ["FX002"]',)).ignore == ["FX004"]
    with pytest.raises(ConfigError, match="no such file"):
        load(backend, str(repo / "missing.toml"))
    (repo / "fixer.toml").write_text('per-file-ignores = ["tests"]\n')
    with pytest.raises(ConfigError, match="per-file-ignores must map globs"):
        load(backend)


def test_per_file_ignore_globs() -> None:
    tests = PerFileIgnore("tests/**", ("FX004",))
    assert tests.matches("tests/a/b.py") and not tests.matches("app/tests.py")
    anywhere = PerFileIgnore("conftest.py", ("FX004",))  # a bare name matches the file in any folder
    assert anywhere.matches("a/b/conftest.py") and anywhere.matches("conftest.py")
    negated = PerFileIgnore("!app/**", ("FX023",))
    assert negated.matches("scripts/x.py") and not negated.matches("app/main.py")
    folder = PerFileIgnore("legacy/", ("FX",))
    assert folder.matches("legacy/x/y.py") and not folder.matches("new/legacy.py")


def test_cli_settings_discovery_per_file_ignores_and_show_settings(repo: Path) -> None:
    backend = repo / "services" / "backend"
    # Globs are relative to the settings file's folder, not to the folder being fixed.
    (repo / "pyproject.toml").write_text(
        '[tool.fixer.per-file-ignores]\n"services/backend/src/core/config.py" = ["FX004"]\n".env" = ["async-database-url"]\n'
    )
    before = {p: p.read_bytes() for p in backend.rglob("*") if p.is_file()}
    result = fixer("dry-run", ".", "--output-format", "json", cwd=backend)
    assert result.returncode == 1, result.stderr
    fx004 = {d["filename"] for d in json.loads(result.stdout)["diagnostics"] if d["code"] == "FX004"}
    assert "src/core/config.py" not in fx004 and ".env" not in fx004 and "src/core/database.py" in fx004
    # --isolated reads no settings: the two files are fixed again.
    isolated = fixer("dry-run", ".", "--output-format", "json", "--isolated", cwd=backend)
    fx004 = {d["filename"] for d in json.loads(isolated.stdout)["diagnostics"] if d["code"] == "FX004"}
    assert {"src/core/config.py", ".env"} <= fx004
    # --config names another file; KEY=VALUE overrides one setting.
    (repo / "only-fx001.toml").write_text('select = ["FX001"]\n')
    chosen = fixer("dry-run", ".", "--output-format", "json", "--config", repo / "only-fx001.toml", cwd=backend)
    assert {d["code"] for d in json.loads(chosen.stdout)["diagnostics"]} == {"FX001"}
    inline = fixer("dry-run", ".", "--output-format", "json", "--config", 'select=["FX002"]', cwd=backend)
    assert {d["code"] for d in json.loads(inline.stdout)["diagnostics"]} == {"FX002"}

    shown = fixer("dry-run", ".", "--show-settings", "--ignore", "FX005", cwd=backend)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout.decode()
    assert "# Settings file: ../../pyproject.toml" in text
    assert '"services/backend/src/core/config.py" = ["FX004"]' in text
    assert "FX005" not in text.split("# the rules that run:")[1].splitlines()[1]
    assert {p: p.read_bytes() for p in backend.rglob("*") if p.is_file()} == before

    bad = fixer("dry-run", ".", "--config", 'per-file-ignores={"x"=["FX999"]}', cwd=backend)
    assert bad.returncode == 2 and b"unknown rule 'FX999'" in bad.stderr
