"""The CPython version a project runs on, as its own files say: a Dockerfile's `FROM python:X.Y`,
`.python-version` (pyenv, uv), `runtime.txt` (Heroku-style `python-3.12.3`), and the range `requires-python`
(PEP 621) or Poetry's `python = "^3.11"` allows.

A named version (the first three) is where the project really runs; a range only bounds it, and stands for
its lowest minor version when nothing names one (a fresh install on the oldest Python the project accepts).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from fixer.discover.config import read_toml

_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(?:[\w.\-/:]+/)?python:(\d+)\.(\d+)", re.IGNORECASE | re.MULTILINE)
_VERSION = re.compile(r"^\s*(?:python-|cpython-)?(\d+)\.(\d+)")
# The CPython minor versions a range is checked against, newest last (those fixer's wheel tables record).
_KNOWN = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")


@dataclass(frozen=True)
class PythonSource:
    path: str  # the file that says it, relative to the root
    line: int
    version: str  # "3.12" for a named version, the specifier (">=3.11") for a range
    named: bool  # a version the project runs on, not a range it accepts


@dataclass(frozen=True)
class PythonVersions:
    sources: tuple[PythonSource, ...] = ()

    @property
    def named(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.version for s in self.sources if s.named))

    @property
    def accepted(self) -> SpecifierSet:
        spec = SpecifierSet()
        for source in self.sources:
            if not source.named:
                spec &= _spec(source.version)
        return spec

    @property
    def runs_on(self) -> tuple[str, ...]:
        """The minor versions to judge the project's pins against: the named ones, else the lowest the range
        accepts; () when the project says nothing."""
        if self.named:
            return self.named
        accepted = self.accepted
        if not str(accepted):
            return ()
        lowest = next((v for v in _KNOWN if accepted.contains(v + ".0") or accepted.contains(v)), None)
        return (lowest,) if lowest else ()

    @property
    def accepted_minors(self) -> tuple[str, ...]:
        """The CPython minor versions the range accepts, among those the wheel tables record."""
        accepted = self.accepted
        return tuple(v for v in _KNOWN if accepted.contains(v + ".0") or accepted.contains(v))

    def evidence(self) -> str:
        return "; ".join(f"{s.path}:{s.line} says Python {s.version}" for s in self.sources)


def _spec(text: str) -> SpecifierSet:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return SpecifierSet()


def _line(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


def is_python_file(path: str) -> bool:
    name = posixpath.basename(path)
    return name in (".python-version", "runtime.txt", "pyproject.toml") or name.startswith("Dockerfile") or name.endswith(".Dockerfile")


def collect(read: Callable[[str], str | None], paths: Iterable[str]) -> PythonVersions:
    """Every statement of the Python version among `paths` (relative, POSIX), read with `read`."""
    from fixer.model.versions import poetry_specifier

    sources: list[PythonSource] = []
    for path in sorted(p for p in paths if is_python_file(p)):
        text = read(path)
        if not text:
            continue
        name = posixpath.basename(path)
        if name == "pyproject.toml":
            try:
                doc = read_toml(text)
            except Exception:
                continue
            rp = doc.get("project", {}).get("requires-python")
            poetry = doc.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
            for key, value in (("requires-python", rp), ("python", poetry_specifier(poetry) if poetry else None)):
                if isinstance(value, str) and str(_spec(value)):
                    at = re.search(rf"^\s*{key}\s*=", text, re.MULTILINE)
                    sources.append(PythonSource(path, _line(text, at.start()) if at else 1, str(_spec(value)), False))
        elif name in (".python-version", "runtime.txt"):
            found = _VERSION.match(text)
            if found:
                sources.append(PythonSource(path, 1, f"{found[1]}.{found[2]}", True))
        else:  # a Dockerfile: its last stage is the one that runs (an earlier one may only build)
            stages = list(_FROM.finditer(text))
            if stages:
                last = stages[-1]
                sources.append(PythonSource(path, _line(text, last.start()), f"{last[1]}.{last[2]}", True))
    return PythonVersions(tuple(sources))
