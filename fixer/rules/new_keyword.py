"""FX048 new-keyword: Raise a dependency's pin to the first release whose function takes a keyword the app passes.

## What it does
Where the prediction of the documented start fails with `TypeError: Field() got an unexpected keyword argument
'ondelete'` at a call the app makes as it loads (a table model's field), because the release the project pins
predates the keyword (fixer's keyword tables record, per release, what sqlmodel's `Field` and `Relationship`
take), raises the pin to the first release that takes it: `sqlmodel==0.0.16` becomes `sqlmodel==0.0.21`. The
report names the release that brought the keyword.

## Why is this bad?
The code was written against a newer release than the one its dependency file pins: the class body runs when the
module is imported, and the start stops there: `TypeError: Field() got an unexpected keyword argument
'ondelete'` (sqlmodel added `ondelete` in 0.0.21).

## Example
```text
fastapi==0.104.1
sqlmodel==0.0.16
```

## Use instead
```text
fastapi==0.104.1
sqlmodel==0.0.21
```

## Fix safety
Safe for an exact pin (`==`) when the new release allows every other pin of the project (what it requires of
them, and what they require of it): the prediction fails without the raise and, on that release, gets past the
call; where the keyword is already taken nothing is changed. Reported, not fixed, when the entry is a range that
excludes the release (the cap is someone's choice), when a lock file holds the distribution (run its lock command)
or when another pin conflicts with the release (move that pin first).
"""

from __future__ import annotations

import re
from typing import ClassVar

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from fixer.model import ProjectModel
from fixer.model.evidence import cite
from fixer.rules.base import TextRule
from fixer.rules.dependency_edit import Change, declared_in, edit, is_main_file
from fixer.rules.findings import Category, Finding, Severity

_DETAIL = re.compile(r"^(\S+) (\S+) installs, whose (\w+)\(\) has no `(\w+)`; it came in \S+ (\S+)$")


def _raises(facts: ProjectModel) -> dict[str, tuple[Version, Version, str, object]]:
    """Distribution -> (installing version, first release taking every keyword the prediction fails on, what the
    app passes, the first such failure)."""
    prediction = facts.startup.primary
    out: dict[str, tuple[Version, Version, str, object]] = {}
    for failure in prediction.failures if prediction is not None else ():
        match = _DETAIL.match(failure.detail) if failure.family == "new-keyword" else None
        if match is None:
            continue
        dist, version, name, keyword, first = match.groups()
        dist = canonicalize_name(dist)
        old = out.get(dist)
        target = max(Version(first), old[1]) if old else Version(first)
        out[dist] = (Version(version), target, old[2] if old else f"{name}({keyword}=...)", old[3] if old else failure)
    return out


def _allows(dist: str, declared: SpecifierSet, needed: SpecifierSet) -> bool:
    """Whether what the project declares of `dist` meets `needed`: its exact pin does, or (a range) a recorded
    release lies in both; a distribution the tables do not know is given the benefit of the doubt."""
    from fixer import tables

    pins = [Version(s.version) for s in declared if s.operator == "==" and "*" not in s.version]
    if pins:
        return all(needed.contains(pin, prereleases=True) for pin in pins)
    known = tables.releases(dist)
    return not known or any(declared.contains(v, prereleases=True) and needed.contains(v, prereleases=True)
                            for v in known)


def conflicts(raises: dict[str, Version], facts: ProjectModel) -> list[str]:
    """What stops the releases `raises` (distribution -> new version, raised together) from installing beside the
    project's other declarations: a raised release's requirement a declaration does not meet, or a declared
    distribution (at the version that installs) that does not allow a raised release. What only follows from the
    raised distributions (pydantic's pydantic-core) moves with them."""
    from fixer import tables

    declared = facts.versions.declared
    out = []
    for dist, target in sorted(raises.items()):
        for req in tables.requires(dist, target) or ():
            other = canonicalize_name(req.name)
            if req.marker is not None or (other not in raises and other not in declared):
                continue
            if other in raises and not req.specifier.contains(raises[other], prereleases=True):
                out.append(f"{dist} {target} requires {req.name}{req.specifier}; {other} is raised to {raises[other]}")
            elif other not in raises and not _allows(other, SpecifierSet(declared[other]), req.specifier):
                out.append(f"{dist} {target} requires {req.name}{req.specifier}; the project declares "
                           f"{other}{declared[other]}")
        for other, at in sorted(facts.versions.effective.items()):
            needed = tables.cap(other, at, dist) if other not in raises and other in declared else None
            if needed is not None and not needed.contains(target, prereleases=True):
                out.append(f"{other} {at} requires {dist}{needed}")
    return out


class NewKeyword(TextRule):
    """Raise a dependency's pin to the first release whose function takes a keyword the app passes."""

    RULE_ID: ClassVar[str] = "FX048"
    RULE_NAME: ClassVar[str] = "new-keyword"
    DEFECTS: ClassVar[tuple[str, ...]] = ()

    def applies_to(self, path: str) -> bool:
        return is_main_file(path)

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        listed = declared_in(path, text)
        changes = []
        for dist, (version, target, call, failure) in sorted(_raises(facts).items()):
            if dist not in listed:
                continue
            declared = facts.versions.declared.get(dist, "")
            pinned = any(s.operator in ("==", "===") for s in SpecifierSet(declared))
            clashes = conflicts({dist: target}, facts)
            held = ("the entry is a range that excludes it" if not pinned else
                    "a lock file holds it: run its lock command after raising the pin" if dist in facts.versions.locked
                    else "; ".join(clashes))
            safe = not held

            def make(old: str, new: str, line: int | None, fixed: bool, dist=dist, version=version, target=target,
                     call=call, failure=failure, safe=safe, held=held) -> Finding:
                return Finding(
                    rule=self.RULE_ID,
                    category=Category.DEPENDENCY,
                    severity=Severity.CRITICAL,
                    problem=f"The app calls {call}, which {dist} {version} does not take; {dist} {target} is the first release that does",
                    root_cause=f"The project pins {dist} {version}, older than the code it runs: the start stops with `{failure}`.",
                    old_code=old,
                    new_code=new,
                    explanation=(f"Raised to {new.strip()}." if safe else f"Not raised: {held}."),
                    fixed=fixed,
                    line=line,
                    safe=safe,
                    evidence=cite(facts, failure) + f"; {facts.versions.judged_against(dist)}",
                )

            changes.append(Change("set", dist, f"=={target}", make, write=safe or facts.unsafe_fixes))
        return edit(path, text, changes)
