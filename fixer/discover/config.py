"""fixer's settings file: what a project keeps instead of repeating it on every run.

    [tool.fixer]                              # in pyproject.toml; in fixer.toml or .fixer.toml, no table header
    select = ["FX"]                           # rule IDs, ID prefixes or names (default: all)
    ignore = ["FX004"]
    exclude = ["legacy/", "scripts/*.py"]     # gitignore-style, relative to the settings file's folder
    [tool.fixer.per-file-ignores]             # ruff's spelling: glob → rules that do not run on those files
    "tests/**" = ["FX004"]                    # relative to the settings file's folder; a bare name matches anywhere
    "!app/**" = ["FX023"]                     # `!`: every file the glob does not match

As with ruff, the closest settings file at or above the folder being fixed wins, counting only files that
hold fixer's settings: in each folder `.fixer.toml`, then `fixer.toml`, then a pyproject.toml with a
`[tool.fixer]` table (a service's own pyproject.toml without one does not hide the repository's).
`--config PATH` names the file instead (or, as `--config KEY=VALUE`, overrides one setting), `--isolated`
reads none. `--select` on the command line replaces the configured selection; `--ignore` adds to it.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Per folder, the first of these that holds fixer's settings is the one read (ruff: .ruff.toml, ruff.toml,
# pyproject.toml).
FILENAMES = (".fixer.toml", "fixer.toml", "pyproject.toml")
_LISTS = ("select", "ignore", "exclude")
_KEYS = (*_LISTS, "per-file-ignores")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class PerFileIgnore:
    pattern: str  # as written, `!` included
    rules: tuple[str, ...]  # as written: IDs, prefixes or names

    def matches(self, rel: str) -> bool:
        """Whether `rel` (POSIX, relative to the settings file's folder) is one of this entry's files. As in ruff,
        `*` crosses folders, and a pattern also matches a file by its name alone."""
        glob = self.pattern[1:] if self.pattern.startswith("!") else self.pattern
        glob = glob.removeprefix("./")
        hit = fnmatch.fnmatchcase(rel, glob) or fnmatch.fnmatchcase(posixpath.basename(rel), glob)
        if not hit and glob.endswith("/"):  # a folder: everything in it
            hit = rel.startswith(glob) or fnmatch.fnmatchcase(rel, glob + "*")
        return hit != self.pattern.startswith("!")


@dataclass(frozen=True)
class Config:
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    per_file_ignores: tuple[PerFileIgnore, ...] = ()
    source: Path | None = None  # the settings file read, if any

    @property
    def folder(self) -> Path:
        """What the file's patterns are relative to: its folder (the working folder for overrides alone)."""
        return self.source.parent if self.source is not None else Path.cwd()

    def ignored_rules(self, rel_to_folder: str) -> list[str]:
        """The rule tokens per-file-ignores turn off for a file (its path relative to `folder`)."""
        return [rule for entry in self.per_file_ignores if entry.matches(rel_to_folder) for rule in entry.rules]


def find(start: Path) -> Path | None:
    """The closest settings file at or above `start` that holds fixer's settings."""
    start = start.resolve()
    for folder in (start, *start.parents):
        for name in FILENAMES:
            candidate = folder / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_table(candidate)):
                return candidate
    return None


def _has_table(pyproject: Path) -> bool:
    text = pyproject.read_text(encoding="utf-8", errors="replace")
    if "tool.fixer" not in text and "[tool]" not in text:  # cheap: most pyproject.toml files say neither
        return False
    try:
        return "fixer" in read_toml(text).get("tool", {})
    except Exception:  # a broken file is reported when read, not passed over silently
        return True


def load(path: Path, config: str | None = None, isolated: bool = False, overrides: tuple[str, ...] = ()) -> Config:
    """The settings for a run over `path`: from `config` when given, none when `isolated`, else the closest
    settings file; `overrides` (`KEY=VALUE` in TOML) are laid over them."""
    if config is not None:
        source = Path(config)
        if not source.is_file():
            raise ConfigError(f"--config {config}: no such file (or KEY=VALUE setting)")
    else:
        source = None if isolated else find(path)
    table: dict = {}
    if source is not None:
        table = _table(source)
    for override in overrides:
        try:
            extra = read_toml(override)
        except Exception as error:
            raise ConfigError(f"--config {override!r}: not a KEY=VALUE setting in TOML ({error})") from None
        table.update(extra)
    return _check(table, source) if (source is not None or overrides) else Config()


def _table(source: Path) -> dict:
    try:
        data = read_toml(source.read_text(encoding="utf-8", errors="replace"))
    except OSError as error:
        raise ConfigError(f"{source}: cannot read it ({error.strerror})") from None
    except Exception as error:  # TOML parsers raise several kinds; all mean the same to the user
        raise ConfigError(f"{source}: {error}") from None
    if source.name == "pyproject.toml":
        return dict(data.get("tool", {}).get("fixer", {}))
    return dict(data)


def _check(table: dict, source: Path | None) -> Config:
    where = f"{source}: " if source is not None else ""
    section = "[tool.fixer] " if source is not None and source.name == "pyproject.toml" else ""
    unknown = set(table) - set(_KEYS)
    if unknown:
        raise ConfigError(f"{where}unknown {section}key(s): {', '.join(sorted(unknown))}")
    values = {}
    for key in _LISTS:
        value = table.get(key, [])
        if not _strings(value):
            raise ConfigError(f"{where}{section}{key} must be a list of strings")
        values[key] = value
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict) or not all(_strings(rules) for rules in per_file.values()):
        raise ConfigError(f'{where}{section}per-file-ignores must map globs to lists of rules: {{"tests/**" = ["FX004"]}}')
    entries = tuple(PerFileIgnore(pattern, tuple(rules)) for pattern, rules in per_file.items())
    return Config(**values, per_file_ignores=entries, source=source)


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def relative_to_folder(config: Config, root: Path) -> str:
    """The run's root seen from the settings file's folder (POSIX, "" or ending in "/"), to match the globs."""
    rel = os.path.relpath(root.resolve(), config.folder.resolve()).replace(os.sep, "/")
    return "" if rel == "." else rel + "/"


def read_toml(text: str) -> dict:
    try:
        import tomllib  # a third of tomlkit's import time: this runs on every invocation
    except ImportError:  # Python 3.10
        import tomlkit

        return tomlkit.parse(text).unwrap()
    return tomllib.loads(text)


def per_file_skip(config: Config, root: Path, expand: Callable[[list[str]], set[str]]) -> Callable[[str, str], bool] | None:
    """`skip(path relative to root, rule ID)`: whether per-file-ignores turn that rule off for that file.
    `expand` turns rule tokens into rule IDs (and raises on an unknown one: checked here, before the run)."""
    if not config.per_file_ignores:
        return None
    ids = {entry.pattern: expand(list(entry.rules)) for entry in config.per_file_ignores}
    prefix = relative_to_folder(config, root)
    cache: dict[str, set[str]] = {}

    def skip(rel: str, rule: str) -> bool:
        if rel not in cache:
            cache[rel] = set().union(*(ids[e.pattern] for e in config.per_file_ignores if e.matches(prefix + rel)))
        return rule in cache[rel]

    return skip


def describe(config: Config, rules: list[str], root: Path) -> str:
    """`--show-settings`: what the run would use, as TOML a person can paste into the settings file."""
    import json

    source = os.path.relpath(config.source) if config.source is not None else "none (defaults)"
    lines = [
        f"# Settings file: {source}",
        f"# Project root: {root}",
        f"# Patterns are relative to: {os.path.relpath(config.folder)}",
        f"select = {json.dumps(config.select)}",
        f"ignore = {json.dumps(config.ignore)}",
        f"exclude = {json.dumps(config.exclude)}",
        "# the rules that run:",
        f"# {', '.join(rules) or '(none)'}",
        "[per-file-ignores]",
        *(f"{json.dumps(e.pattern)} = {json.dumps(list(e.rules))}" for e in config.per_file_ignores),
    ]
    return "\n".join(lines)
