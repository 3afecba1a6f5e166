"""Reading fixer's generated tables (``fixer/data/*.json``): each file loaded once, names and versions in one
spelling. The lookups themselves are in :mod:`fixer.tables` and :mod:`fixer.sourcetexts`."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from packaging.utils import canonicalize_name
from packaging.version import Version

__all__ = ["VersionLike", "as_version", "dist_key", "indices", "load"]

VersionLike = Version | str


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    return json.loads(resources.files("fixer").joinpath("data", name).read_text(encoding="utf-8"))


def dist_key(name: str) -> str:
    return canonicalize_name(name)


def as_version(v: VersionLike) -> Version:
    return v if isinstance(v, Version) else Version(v)


def indices(ranges: str) -> frozenset[int]:
    out: set[int] = set()
    for part in filter(None, ranges.split(",")):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return frozenset(out)
