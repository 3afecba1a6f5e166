"""FX039 removed-module: Cap a dependency below the major release that removed a module or name the app imports.

## What it does
Where the prediction of the documented start fails on importing a module of a third-party distribution that the
installing release no longer has, or a name that module no longer exports (the exports tables record, per
release, which modules import and what each exports), caps that distribution below the first release without
it, where the project declares it: `mcp>=1.24.0` becomes `mcp>=1.24.0,<2`; where another dependency brings it
(fastmcp, an agents SDK), as a line of its own, `mcp<2`. The report names the last release that has the module
or name (mcp 1.30.0 for `mcp.server.fastmcp`, and for `from mcp.server import FastMCP`).

## Why is this bad?
A fresh install takes the newest release the project's range allows. When a new major removes or renames a
module or a name, the start stops at that import: `ModuleNotFoundError: No module named 'mcp.server.fastmcp'`,
`ImportError: cannot import name 'FastMCP' from 'mcp.server'` (mcp 2 renamed FastMCP to MCPServer).

## Example
```text
fastapi
mcp>=1.24.0
```

## Use instead
```text
fastapi
mcp>=1.24.0,<2
```

## Fix safety
Safe when the project's own range already accepts the release that has the module (the cap only removes the
part of the range that cannot start: the prediction fails without it and, on the release it leaves, imports the
module; an install that works today, on that older major, is unchanged). Reported, not fixed, when the declared
range allows no release with the module (`mcp>=2`: porting the code is a person's job), when another package that
installs requires a release the cap excludes (fastapi 0.165 requires pydantic>=2: a pydantic-1 name gets no
`pydantic<2`), or when a lock file holds the distribution (the lock decides what installs: run its lock command). The lasting fix is to port the code
to the new major; the cap is what makes it start today.
"""

from __future__ import annotations

import re
from typing import ClassVar

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.model.evidence import cite
from fixer.rules.base import TextRule
from fixer.rules.dependency_edit import Change, declared_in, edit, is_main_file, target_file


def _caps(facts: ProjectModel) -> list[tuple[str, str, str, Version, Version, object]]:
    """(distribution, what the app imports, cap, installing version, last version that has it, failure) per module
    or name the prediction meets that the installing release removed."""
    from fixer import tables

    prediction = facts.startup.primary
    out = []
    for failure in prediction.failures if prediction is not None else ():
        if failure.family == "removed-module":
            match = re.search(r"'([\w.]+)'", failure.message)
            module, name = (match.group(1) if match else ""), ""
        elif failure.family == "removed-name":
            match = re.search(r"cannot import name '(\w+)' from '([\w.]+)'", failure.message)
            if match is None:
                continue
            name, module = match.groups()
        else:
            continue
        top = module.split(".")[0]
        dist = tables.distribution_of(top) or (top if facts.installed.has(top) or tables.releases(top) else None) \
            if module else None
        # A distribution another brings in has no declared version: the one the fresh install picks.
        version = (facts.versions.version(dist) or tables.newest_allowed(dist, SpecifierSet())) if dist else None
        if dist is None or version is None:
            continue
        last = tables.last_exporting(dist, module, name, version) if name else tables.last_importing(dist, module, version)
        if last is None:
            continue
        cap = f"<{version.major}" if version.major > last.major else f"<{version}"
        out.append((canonicalize_name(dist), f"{module}.{name}" if name else module, cap, version, last, failure))
    return out


def _held_back(fits: bool, conflicts: list[str], capped: bool) -> str:
    if not fits:
        return "the declared range allows no release with it"
    if conflicts:
        return "; ".join(conflicts) + ", which the cap would leave nothing to install"
    if capped:
        return "the declared range already excludes that release, so something else installs it"
    return "a lock file holds it: run its lock command after capping"


class RemovedModule(TextRule):
    """Cap a dependency below the major release that removed a module or name the app imports."""

    RULE_ID: ClassVar[str] = "FX039"
    RULE_NAME: ClassVar[str] = "removed-module"
    DEFECTS: ClassVar[tuple[str, ...]] = ()

    def applies_to(self, path: str) -> bool:
        return is_main_file(path)

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        from fixer import tables

        listed = declared_in(path, text)
        changes = []
        for dist, module, cap, version, last, failure in _caps(facts):
            # Not declared, the distribution comes with another (mcp with fastmcp or an agents SDK): the cap is a
            # line of its own in the file the install reads, and the resolver picks a release of the other
            # that allows it.
            pulled = dist not in facts.versions.declared and target_file(facts.versions.files, failure.path) == path
            if dist not in listed and not pulled:
                continue
            declared = facts.versions.declared.get(dist, "")
            specifier = ",".join(filter(None, (declared, cap)))
            fits = bool(tables.allowed(dist, SpecifierSet(specifier)))
            # What the other installing packages require of it must still allow a release under the cap
            # (fastapi 0.165 requires pydantic>=2: a pydantic<2 cap leaves the install nothing to pick).
            conflicts = [f"{other} {at} requires {dist}{needed}" for other, at in sorted(facts.versions.effective.items())
                         if other != dist and (needed := tables.cap(other, at, dist)) is not None
                         and not tables.allowed(dist, needed & SpecifierSet(specifier))]
            # A range that already excludes the installing release: the cap is there, something else installs it.
            capped = bool(declared) and not SpecifierSet(declared).contains(version, prereleases=True)
            safe = fits and not conflicts and not capped and dist not in facts.versions.locked

            def make(old: str, new: str, line: int | None, fixed: bool, module=module, version=version, last=last,
                     failure=failure, dist=dist, safe=safe, fits=fits, conflicts=conflicts, capped=capped) -> Finding:
                return Finding(
                    rule=self.RULE_ID,
                    category=Category.DEPENDENCY,
                    severity=Severity.CRITICAL,
                    problem=f"{dist} {version} has no `{module}`, which the app imports; the last release with it is {dist} {last}",
                    root_cause=f"A fresh install takes {dist} {version}, the newest the project's range allows; the start "
                    f"stops with `{failure}`.",
                    old_code=old,
                    new_code=new,
                    explanation=(
                        f"Capped at {new.strip()}: the project's range already accepts {dist} {last}, which has it."
                        if safe else
                        f"Not capped: {_held_back(fits, conflicts, capped)}."
                    ) + f" The lasting fix is to port the code to {dist} {version.major}.",
                    fixed=fixed,
                    line=line,
                    safe=safe,
                    evidence=cite(facts, failure) + f"; {facts.versions.judged_against(dist)}",
                )

            changes.append(Change("add" if pulled else "set", dist, specifier, make, write=safe or facts.unsafe_fixes))
        return edit(path, text, changes)
