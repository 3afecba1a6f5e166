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
row answers 500 (VER-PYDANTIC-2100). pydantic 2.10.1 asks for `validated_data` only of a factory that takes it.

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
Safe: a patch release of the pinned version, whose only change that matters here is the fix; pydantic 2.10.1
pins its own pydantic-core (2.27.1), which the install follows. Nothing is changed for a range (the install gives a
newer pydantic), nor where no table has a default factory.
"""

from __future__ import annotations

import re
from typing import ClassVar

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from fixer.model import ProjectModel
from fixer.rules.async_driver import AsyncDriverDependency
from fixer.rules.base import TextRule
from fixer.rules.dependency_edit import Change, declared_in, edit
from fixer.rules.findings import Category, Finding, Severity

BROKEN = Version("2.10.0")  # FieldInfo.get_default(call_default_factory=True) needs validated_data
FIXED = Version("2.10.1")
# An entry of this file that pins it: a range beside it (a pyproject's `pydantic>=2.0`) installs a newer one.
_PINS_BROKEN = re.compile(r"""(?im)^[\s"']*pydantic\s*(?:\[[^\]]*\])?\s*===?\s*2\.10\.0(?![.\w])""")
ERROR = "ValueError: 'validated_data' must be provided if 'call_default_factory' is True."


class PydanticDefaultFactory(TextRule):
    """Raise an exact pydantic 2.10.0 pin to 2.10.1 where SQLModel tables use default factories."""

    RULE_ID: ClassVar[str] = "FX049"
    RULE_NAME: ClassVar[str] = "pydantic-default-factory"
    DEFECTS: ClassVar[tuple[str, ...]] = ("VER-PYDANTIC-2100",)

    def applies_to(self, path: str) -> bool:
        return AsyncDriverDependency().applies_to(path)

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        declared = facts.versions.declared.get("pydantic", "")
        pinned = [s for s in SpecifierSet(declared) if s.operator in ("==", "===")]
        factories = sorted(facts.stored_fields.factories)
        if not (factories and facts.versions.version("sqlmodel") is not None and "pydantic" in declared_in(path, text)
                and facts.versions.version("pydantic") == BROKEN and pinned and _PINS_BROKEN.search(text)):
            return text, []

        def finding(old: str, new: str, line: int | None, fixed: bool) -> Finding:
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
                explanation=f"Raised to pydantic {FIXED}, the release that fixes it (a patch release).",
                fixed=fixed,
                line=line,
                safe=True,
                defects=self.DEFECTS,
                evidence=facts.versions.judged_against("pydantic") + "; " + facts.versions.judged_against("sqlmodel"),
            )

        return edit(path, text, [Change("set", "pydantic", f"=={FIXED}", finding)])
