"""`[tool.fixer]` in pyproject.toml: the settings a project keeps instead of repeating them on every run.

    [tool.fixer]
    select = ["FX"]            # rule IDs, ID prefixes or names (default: all)
    ignore = ["FX004"]
    exclude = ["legacy/", "scripts/*.py"]   # gitignore-style, relative to the pyproject's folder

As with ruff, the closest pyproject.toml at or above the folder being fixed is the one read. `--select`
on the command line replaces the configured selection; `--ignore` adds to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    source: Path | None = None


def load(path: Path) -> Config:
    for folder in (path.resolve(), *path.resolve().parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            text = pyproject.read_text(encoding="utf-8", errors="replace")
            return _parse(text, pyproject) if "[tool.fixer" in text else Config()
    return Config()


def _parse(text: str, pyproject: Path) -> Config:
    try:
        table = read_toml(text).get("tool", {}).get("fixer", {})
    except Exception as error:  # TOML parsers raise several kinds; all mean the same to the user
        raise ConfigError(f"{pyproject}: {error}") from None
    values = {}
    for key in ("select", "ignore", "exclude"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{pyproject}: [tool.fixer] {key} must be a list of strings")
        values[key] = value
    unknown = set(table) - set(values)
    if unknown:
        raise ConfigError(f"{pyproject}: unknown [tool.fixer] key(s): {', '.join(sorted(unknown))}")
    return Config(**values, source=pyproject)


def read_toml(text: str) -> dict:
    try:
        import tomllib  # a third of tomlkit's import time: this runs on every invocation
    except ImportError:  # Python 3.10
        import tomlkit

        return tomlkit.parse(text).unwrap()
    return tomllib.loads(text)
