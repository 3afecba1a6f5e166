"""FX041 undecided-session: Note a session whose kind (sync or async) fixer cannot tell.

## What it does
Notes (never edits) a name the code calls session methods on (`commit`, `exec`, `refresh`, `get`, ...) when
the project's value analysis cannot tell whether it holds a sync `Session` or an `AsyncSession`: a session
parameter no caller in the project passes, a session made on an engine parameter no caller passes, one that
holds both kinds depending on the caller. The note names the function, the expression, and why it could not
be decided (the chain of sites the value came through). Only in a project that is moving to async (where
FX010-FX019 convert the use layer).

## Why is this bad?
It may be nothing: the code may be right as it is. But where the session is an `AsyncSession`, an un-awaited
`session.commit()` writes nothing and `session.exec(q).all()` fails with `AttributeError: 'coroutine' object
has no attribute 'all'`; where it is a sync session on an async engine, `with Session(engine)` fails at the
first request. fixer does not guess which: it says where it could not tell, so a person can check.

## Example
```python
# book_service.py: no caller passes the engine, so the session's kind is unknown
async def get_book(book_id: int, engine):
    async with Session(engine) as session:
        return session.get(Book, book_id)
```

## Use instead
Pass the engine or session from where it is made, or annotate it (`session: AsyncSession`): fixer then
follows it, and fixes the calls if they need it.
```python
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

async def get_book(book_id: int, engine: AsyncEngine):
    async with AsyncSession(engine) as session:
        return await session.get(Book, book_id)
```

## Fix safety
A note, not a defect: nothing is edited, and a note alone does not make `fixer dry-run` exit 1.
"""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.rules.base import FixerCodemod


class UndecidedSession(FixerCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID = "FX041"
    RULE_NAME = "undecided-session"
    DEFECTS = ("ENG-MISSING-AWAIT", "ENG-SYNC-SESSION")
    REPORT_ONLY: ClassVar[bool] = True  # a note: fixer verify never names it as the rule that fixes a 5xx
    # The model's value analysis says which files hold such names: no text check picks a file for it.
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"\x00fixer: the value analysis decides\x00")

    @classmethod
    def planned(cls, model: ProjectModel, path: str) -> bool:
        return any(item.path == path for item in model.uses.undecided)

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        lines = tree.code.splitlines()
        for item in self.facts.uses.undecided:
            if item.path != self.context.filename:
                continue
            code = lines[item.line - 1].strip() if 0 < item.line <= len(lines) else ""
            self.report(Finding(
                rule=self.RULE_ID, category=Category.DATABASE, severity=Severity.LOW,
                problem=f"{item.function}: `{item.name}` {item.why}: fixer cannot tell a sync Session from an AsyncSession here",
                root_cause="the value analysis cannot follow where this session comes from",
                old_code=code, new_code="",
                explanation=(
                    "Nothing was changed. If it is an AsyncSession, its coroutine methods (commit, execute, exec, "
                    "refresh, get, ...) must be awaited; if it is a sync Session, it must not be made on an async "
                    "engine. Pass it from where it is made, or annotate it, and fixer follows it."
                ),
                fixed=False, defects=self.DEFECTS, line=item.line, note=True,
            ))
        return tree
