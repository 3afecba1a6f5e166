"""FX042 settings-url-validator: A settings validator that demands `+asyncpg` converts the platform URL instead of rejecting it.

## What it does
In a settings class whose field validator raises unless the database URL names an async driver, adds one line
at the top of the validator, `v = to_async_database_url(v)` (FX004's function, added once to the module), so
the platform's `postgresql://...?sslmode=require&channel_binding=require` becomes
`postgresql+asyncpg://...?ssl=require` before the check.

## Why is this bad?
Neon, Render, Railway, Heroku and Vercel set `DATABASE_URL=postgresql://...?sslmode=require&channel_binding=require`.
The settings are built at import, so the app does not start: `pydantic_core._pydantic_core.ValidationError: 1
validation error for Settings ... DATABASE_URL must use asyncpg ...`. The project wants asyncpg; only the form
of the URL is wrong, and asyncpg also needs `ssl=` for `sslmode=` and no `channel_binding` (URL-NEON-SSL).

## Example
```python
class Settings(BaseSettings):
    database_url: str

    @field_validator("database_url")
    @classmethod
    def check_url(cls, v: str) -> str:
        if not v.startswith("postgresql+asyncpg://"):
            raise ValueError("DATABASE_URL must use asyncpg")
        return v
```

## Use instead
```python
    @field_validator("database_url")
    @classmethod
    def check_url(cls, v: str) -> str:
        v = to_async_database_url(v)
        if not v.startswith("postgresql+asyncpg://"):
            raise ValueError("DATABASE_URL must use asyncpg")
        return v
```

## Fix safety
Safe where the prediction of the documented start fails at this class's validation, and the validator, run on
the converted platform URL by fixer's restricted evaluator (no project code runs), returns instead of raising:
the finding cites both. A URL the validator accepts today (`postgresql+asyncpg://` without libpq parameters,
`sqlite+aiosqlite://`) passes the function unchanged. Where the evaluator cannot show the converted URL passing,
the failure stays FX030's report.
"""

from __future__ import annotations

import ast
import re
from typing import ClassVar

import libcst as cst

from fixer.rules.findings import Category, Finding, Severity
from fixer.model.evidence import PLATFORM_URL, cite
from fixer.model.urleval import Evaluator, Raised, Unknown
from fixer.rules.base import FixerCodemod
from fixer.rules.url_normaliser import NORMALISER_NAME, defined_names, insert_helper, normaliser_source
from fixer.model.urls import to_async_url

RULE_ID = "FX042"


def _validates_url(function: cst.FunctionDef) -> bool:
    decorators = " ".join(cst.Module([]).code_for_node(d.decorator) for d in function.decorators)
    return "validator" in decorators and any(w in decorators.lower() for w in ("url", "dsn", "uri"))


def passes(source: str, cls: str, function: str, url: str) -> bool | None:
    """Whether `cls.function` (a validator in `source`) returns for `url`: None when the evaluator cannot tell."""
    tree = ast.parse(source)
    evaluator = Evaluator(lambda name: None, lambda name: (tree, None, "") if name == "__module__" else None)
    try:
        scope = evaluator.module("__module__")
        owner = evaluator.lookup(scope, cls)
        evaluator.call(ast.parse(f"{cls}.{function}(__url__)", mode="eval").body, scope, {**scope.names, "__url__": url})
    except Raised:
        return False
    except (Unknown, RecursionError, LookupError, TypeError, ValueError, AttributeError):
        return None
    return owner is not None


class SettingsUrlValidator(FixerCodemod):
    __doc__ = __doc__
    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = "settings-url-validator"
    DEFECTS: ClassVar[tuple[str, ...]] = ("URL-PLAIN", "URL-NEON-SSL")
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"validator")

    def visit_Module(self, node: cst.Module) -> bool:
        path = (self.context.filename or "").replace("\\", "/")
        self._failures = {}
        self._module = node  # printed only for a validator the evaluator is asked about: most files have none
        self._source: str | None = None
        self._wrapped = False
        prediction = self.facts.startup.primary
        for failure in prediction.failures if prediction is not None else ():
            if failure.fixed_by == RULE_ID:
                self._failures[failure.message.rpartition(" for ")[2]] = failure
        names, self._has_make_url = defined_names(node)
        self._has_helper = NORMALISER_NAME in names  # FX004 added it on this parse, or a run before did
        return bool(self._failures) and ("make_url" not in names or self._has_make_url)

    def enters(self, statement: cst.BaseStatement) -> bool:
        return isinstance(statement, cst.ClassDef)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._class = node.name.value
        return True

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        failure = self._failures.get(getattr(self, "_class", ""))
        if failure is None or not _validates_url(original_node):
            return updated_node
        params = [p.name.value for p in original_node.params.params]
        if len(params) < 2:
            return updated_node
        value = params[1]  # (cls, v): pydantic's validators are class methods
        converted = to_async_url(PLATFORM_URL, self.facts.async_driver()) or PLATFORM_URL
        if self._source is None:
            self._source = self._module.code
        if passes(self._source, self._class, original_node.name.value, converted) is not True:
            return updated_node
        line = cst.parse_statement(f"{value} = {NORMALISER_NAME}({value})\n")
        body = list(updated_node.body.body)
        first = 1 if body and isinstance(body[0], cst.SimpleStatementLine) and isinstance(
            body[0].body[0], cst.Expr) and isinstance(body[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString)) else 0
        body.insert(first, line)
        new = updated_node.with_changes(body=updated_node.body.with_changes(body=body))
        self._wrapped = True
        self.report(Finding(
            rule=RULE_ID, category=Category.CONFIG, severity=Severity.CRITICAL,
            problem=f"The validator `{self._class}.{original_node.name.value}` rejects the platform's postgresql:// URL.",
            root_cause="Hosting platforms set DATABASE_URL to postgresql://...?sslmode=require&channel_binding=require; "
                       "the settings are built at import, so the app does not start.",
            old_code=self.code(original_node), new_code=self.code(new),
            explanation=f"The validator now converts the URL first (`{NORMALISER_NAME}`): asyncpg, `ssl=` for "
                        "`sslmode=`, no `channel_binding`; URLs it accepted before pass unchanged.",
            defects=self.DEFECTS, fixed=True, safe=True,
            evidence=f"{cite(self.facts, failure)}; the validator returns for {converted}",
        ))
        return new

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._wrapped or self._has_helper:
            return updated_node
        return insert_helper(self.context, updated_node, NORMALISER_NAME,
                             normaliser_source(self.facts.async_driver()), self._has_make_url)
