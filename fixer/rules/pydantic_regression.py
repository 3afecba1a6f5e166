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

from fixer.model import ProjectModel
from fixer.rules.async_driver import AsyncDriverDependency
from fixer.rules.base import TextRule
from fixer.rules.dependency_edit import Change, declared_in, edit
from fixer.rules.findings import Category, Finding, Severity
from fixer.rules.new_keyword import conflicts

BROKEN = Version("2.10.0")  # FieldInfo.get_default(call_default_factory=True) needs validated_data
FIXED = Version("2.10.1")
# An entry of this file that pins it: a range beside it (a pyproject's `pydantic>=2.0`) installs a newer one.
_PINS_BROKEN = re.compile(r"""(?im)^[\s"']*pydantic\s*(?:\[[^\]]*\])?\s*===?\s*2\.10\.0(?![.\w])""")
ERROR = "ValueError: 'validated_data' must be provided if 'call_default_factory' is True."


def _companions(listed: set[str], facts: ProjectModel) -> dict[str, Version]:
    """The exact pins of this file that pydantic FIXED does not allow but names one release of (a pip freeze's
    `pydantic_core==2.27.0`, where 2.10.1 requires `pydantic-core==2.27.1`): raised with it to that release, when
    the tables record it and the entry's other bounds allow it."""
    from fixer import tables

    out = {}
    for req in tables.requires("pydantic", FIXED) or ():
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
        if not (factories and facts.versions.version("sqlmodel") is not None and "pydantic" in declared_in(path, text)
                and facts.versions.version("pydantic") == BROKEN and pinned and _PINS_BROKEN.search(text)):
            return text, []

        listed = declared_in(path, text)
        raises = {"pydantic": FIXED, **_companions(listed, facts)}
        held = ("a lock file holds it: run its lock command after raising the pin"
                if any(dist in facts.versions.locked for dist in raises) else "; ".join(conflicts(raises, facts)))

        def finding(old: str, new: str, line: int | None, fixed: bool, dist: str = "pydantic") -> Finding:
            return Finding(
                rule=self.RULE_ID,
                category=Category.DEPENDENCY,
                severity=Severity.CRITICAL,
                problem=f"pydantic {BROKEN} refuses SQLModel's table constructor on a field with a default factory "
                        f"({', '.join(factories[:3])}): every row created fails with `{ERROR}`",
                root_cause=f"pydantic {BROKEN}'s FieldInfo.get_default(call_default_factory=True) raises without "
                           "validated_data, and SQLModel's table constructor calls it without; fixed in "
                           f"pydantic {FIXED}.",
                old_code=old,
                new_code=new,
                explanation=(f"Not raised: {held}." if held else f"Raised with it: pydantic {FIXED} requires "
                             f"{dist}=={raises[dist]}." if dist != "pydantic" else
                             f"Raised to pydantic {FIXED}, the release that fixes it (a patch release)."),
                fixed=fixed,
                line=line,
                safe=not held,
                defects=self.DEFECTS,
                evidence=facts.versions.judged_against("pydantic") + "; " + facts.versions.judged_against("sqlmodel"),
            )

        write = not held or facts.unsafe_fixes
        return edit(path, text, [Change("set", dist, f"=={version}", partial(finding, dist=dist), write=write)
                                 for dist, version in raises.items()])
