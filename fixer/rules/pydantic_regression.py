"""FX049 pydantic-default-factory: Raise an exact pydantic 2.10.0 pin to 2.10.1 where SQLModel tables use default factories.

## What it does
Where the project's dependency file pins `pydantic==2.10.0` (also with extras, `pydantic[email]==2.10.0`), the
install gives SQLModel, and a table model (or a class one inherits from) has a field with a `default_factory`,
sets the pin to `==2.10.1`, the next release, which fixes the regression.

## Why is this bad?
pydantic 2.10.0's `FieldInfo.get_default(call_default_factory=True)` raises unless it is also given
`validated_data`. SQLModel's table constructor calls it without (every SQLModel release does), once per field with
a default factory: the first `Task(...)` of such a table fails with
`ValueError: 'validated_data' must be provided if 'call_default_factory' is True.`, so every route that creates a
row answers 500. pydantic 2.10.1 asks for `validated_data` only of a factory that takes it.

## Example
```text
sqlmodel==0.0.22
pydantic==2.10.0
```
```python
class Task(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
```

## Use instead
```text
sqlmodel==0.0.22
pydantic==2.10.1
```

## Fix safety
Safe: a patch release of the pinned version, whose only change that matters here is the fix. pydantic 2.10.1
requires pydantic-core==2.27.1: an exact pydantic-core pin of the same file (a pip freeze's `pydantic_core==2.27.0`)
is raised with it. Reported, not fixed, when another declaration does not allow the release (a pydantic-core range
below 2.27.1: move it first) or when a lock file holds it (run its lock command). Nothing is changed for a range
(the install gives a newer pydantic), nor where no table has a default factory.
"""

from __future__ import annotations

import re
from functools import partial
from typing import ClassVar

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from fixer import tables
from fixer.model import ProjectModel
from fixer.rules.async_driver import AsyncDriverDependency
from fixer.rules.base import TextRule
from fixer.rules.dependency_edit import Change, declared_in, edit
from fixer.rules.findings import Category, Finding, Severity
from fixer.rules.new_keyword import conflicts

# The releases whose FieldInfo.get_default(call_default_factory=True) raises without validated_data are those
# whose pydantic/fields.py holds this message (the tables read it in every release's source: 2.10.0 alone).
_MESSAGE = "default-factory-validated-data"


def _regression(version: Version | None) -> tuple[Version, Version] | None:
    """(the broken release, as recorded, and the release that fixes it: the next final one whose source no longer
    holds the message) when `version` is a broken one."""
    broken = next((v for v in tables.releases_with("pydantic", _MESSAGE) if v == version), None)
    repaired = next((v for v in tables.releases("pydantic") if broken is not None and v > broken
                     and not v.is_prerelease and tables.message("pydantic", v, _MESSAGE) is None), None)
    return (broken, repaired) if broken is not None and repaired is not None else None


def _pins(version: Version) -> re.Pattern[str]:
    """An entry of this file that pins `version`: a range beside it (a pyproject's `pydantic>=2.0`) installs a newer
    one."""
    return re.compile(r"""(?im)^[\s"']*pydantic\s*(?:\[[^\]]*\])?\s*===?\s*""" + re.escape(str(version))
                      + r"(?![.\w])")


def _companions(listed: set[str], facts: ProjectModel, repaired: Version) -> dict[str, Version]:
    """The exact pins of this file that pydantic `repaired` does not allow but names one release of (a pip freeze's
    `pydantic_core==2.27.0`, where 2.10.1 requires `pydantic-core==2.27.1`): raised with it to that release, when
    the tables record it and the entry's other bounds allow it."""
    out = {}
    for req in tables.requires("pydantic", repaired) or ():
        other = canonicalize_name(req.name)
        exact = [Version(s.version) for s in req.specifier if s.operator == "=="]
        at = facts.versions.effective.get(other)
        declared = SpecifierSet(facts.versions.declared.get(other, ""))
        bounds = [s for s in declared if s.operator not in ("==", "===")]
        if (req.marker is None and len(exact) == 1 and other in listed and at is not None
                and not req.specifier.contains(at, prereleases=True) and len(bounds) < len(declared)
                and exact[0] in tables.releases(other) and all(s.contains(exact[0], prereleases=True) for s in bounds)):
            out[other] = exact[0]
    return out


class PydanticDefaultFactory(TextRule):
    """Raise an exact pydantic 2.10.0 pin to 2.10.1 where SQLModel tables use default factories."""

    RULE_ID: ClassVar[str] = "FX049"
    RULE_NAME: ClassVar[str] = "pydantic-default-factory"
    DEFECTS: ClassVar[tuple[str, ...]] = ()

    def applies_to(self, path: str) -> bool:
        return AsyncDriverDependency().applies_to(path)

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        declared = facts.versions.declared.get("pydantic", "")
        pinned = [s for s in SpecifierSet(declared) if s.operator in ("==", "===")]
        factories = sorted(facts.stored_fields.factories)
        regression = _regression(facts.versions.version("pydantic"))
        if not (factories and facts.versions.version("sqlmodel") is not None and "pydantic" in declared_in(path, text)
                and regression is not None and pinned and _pins(regression[0]).search(text)):
            return text, []

        broken, repaired = regression
        error = f"ValueError: {tables.message('pydantic', broken, _MESSAGE)}"
        listed = declared_in(path, text)
        raises = {"pydantic": repaired, **_companions(listed, facts, repaired)}
        held = ("a lock file holds it: run its lock command after raising the pin"
                if any(dist in facts.versions.locked for dist in raises) else "; ".join(conflicts(raises, facts)))

        def finding(old: str, new: str, line: int | None, fixed: bool, dist: str = "pydantic") -> Finding:
            return Finding(
                rule=self.RULE_ID,
                category=Category.DEPENDENCY,
                severity=Severity.CRITICAL,
                problem=f"pydantic {broken} refuses SQLModel's table constructor on a field with a default factory "
                        f"({', '.join(factories[:3])}): every row created fails with `{error}`",
                root_cause=f"pydantic {broken}'s FieldInfo.get_default(call_default_factory=True) raises without "
                           "validated_data, and SQLModel's table constructor calls it without; fixed in "
                           f"pydantic {repaired}.",
                old_code=old,
                new_code=new,
                explanation=(f"Not raised: {held}." if held else f"Raised with it: pydantic {repaired} requires "
                             f"{dist}=={raises[dist]}." if dist != "pydantic" else
                             f"Raised to pydantic {repaired}, the release that fixes it (a patch release)."),
                fixed=fixed,
                line=line,
                safe=not held,
                defects=self.DEFECTS,
                evidence=facts.versions.judged_against("pydantic") + "; " + facts.versions.judged_against("sqlmodel"),
            )

        write = not held or facts.unsafe_fixes
        return edit(path, text, [Change("set", dist, f"=={version}", partial(finding, dist=dist), write=write)
                                 for dist, version in raises.items()])
