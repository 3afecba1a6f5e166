"""FX054 alembic-app-url: Alembic's env.py connects to a compose host instead of the URL the app reads

## What it does
Puts the URL of the app's own engine into alembic's config at the top of env.py, where the documented start
runs `alembic upgrade head` before the server and env.py's engine reads `sqlalchemy.url` from alembic.ini
(or from a URL env.py writes itself) that names a host only the project's compose network resolves.

## Why is this bad?
The platform sets `DATABASE_URL`; the app reads it, but the migration step connects to `db:5432` (or whatever
the compose file calls its database service) and fails with `could not translate host name` / `Name or service
not known` before the server starts (URL-WHERE).

## Example
```python
# alembic.ini: sqlalchemy.url = postgresql+asyncpg://postgres:postgres@db:5432/app
from alembic import context
from app import models

config = context.config
```

## Use instead
```python
from alembic import context
from app import models

config = context.config
from app.db import engine
config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
```

## Fix safety
Safe where fixer's prediction of the documented migration step fails in env.py at an engine built from
alembic's config (`engine_from_config`, `async_engine_from_config`, `get_main_option("sqlalchemy.url")`) on a
compose host, and the app has exactly one module-level PostgreSQL engine of the same kind (sync or async) whose
URL is the platform's variable, in a package env.py already imports: the migrations then connect where the app
connects, with the app's own URL conversion (driver, query). `%` is doubled for alembic's ini interpolation.
An env.py whose engine gets its URL any other way, an app engine of the other kind, or several candidates are
reported by FX030 instead.
"""

from __future__ import annotations

import ast
import posixpath
import re
from typing import ClassVar

import libcst as cst

from fixer.model import ProjectModel
from fixer.model.evidence import cite
from fixer.model.failures import Failure
from fixer.rules.base import FixerCodemod
from fixer.rules.findings import Category, Finding, Severity

__all__ = ["AlembicAppUrl"]

_URL_KEY = "sqlalchemy.url"
# What builds env.py's engine from alembic's config: the compose host reaches it through `sqlalchemy.url`.
_FROM_CONFIG = re.compile(r"\b(?:async_)?engine_from_config\b|get_main_option\(\s*[\"']sqlalchemy\.url")


def _failure(model: ProjectModel) -> Failure | None:
    """The compose-host failure of the documented migration step, at env.py's engine built from the config."""
    migration, prediction = model.startup.migration, model.startup.primary
    if migration is None or prediction is None:
        return None
    for failure in prediction.failures:
        if failure.family == "compose-host" and failure.path == migration.env:
            return failure
    return None


def _config_name(statement: cst.BaseStatement) -> str | None:
    """`config = context.config`: the name alembic's Config is bound to."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
            and isinstance(statement.body[0], cst.Assign) and len(statement.body[0].targets) == 1:
        target, value = statement.body[0].targets[0].target, statement.body[0].value
        if isinstance(target, cst.Name) and isinstance(value, cst.Attribute) and value.attr.value == "config" \
                and isinstance(value.value, cst.Name) and value.value.value == "context":
            return target.value
    return None


def _sets_url(statement: cst.BaseStatement, config: str) -> bool:
    """`config.set_main_option("sqlalchemy.url", ...)` as a statement of its own."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.Call)):
        return False
    call = statement.body[0].value
    return isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name) \
        and call.func.value.value == config and call.func.attr.value == "set_main_option" and len(call.args) == 2 \
        and isinstance(call.args[0].value, cst.SimpleString) and call.args[0].value.evaluated_value == _URL_KEY


def _readies(code: str, package: str) -> bool:
    """A top-level statement that edits sys.path or imports the app's package: the engine import must follow it."""
    return "sys.path" in code or re.search(rf"^\s*(?:from\s+{re.escape(package)}\b|import\s+{re.escape(package)}\b)",
                                            code, re.M) is not None


def _bound_names(tree: ast.Module) -> set[str]:
    """Names env.py binds at its top level (an imported engine must not collide with one)."""
    names = set()
    for node in tree.body:
        for sub in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                else []:
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)
            elif isinstance(sub, ast.alias):
                names.add((sub.asname or sub.name).split(".")[0])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


class AlembicAppUrl(FixerCodemod):
    __doc__ = __doc__

    RULE_ID: ClassVar[str] = "FX054"
    RULE_NAME: ClassVar[str] = "alembic-app-url"
    DEFECTS: ClassVar[tuple[str, ...]] = ("URL-WHERE",)
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"context\.config")

    @classmethod
    def wants(cls, path: str, model: ProjectModel) -> bool:
        failure = _failure(model)
        return failure is not None and failure.path == path

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        failure = _failure(self.facts)
        if failure is None:
            return tree
        lines = tree.code.splitlines()
        if not (0 < failure.line <= len(lines)) or not _FROM_CONFIG.search(
                "\n".join(lines[failure.line - 1:failure.line + 3])):
            return tree  # env.py's engine gets its URL another way: setting the config changes nothing
        engine = self.facts.startup.migration_engine
        if engine is None:
            return tree
        module = engine.module
        try:
            bound = _bound_names(ast.parse(tree.code))
        except (SyntaxError, ValueError):
            return tree
        name = engine.target if engine.target not in bound else f"app_{engine.target}"
        if name in bound:
            return tree
        body = list(tree.body)
        at = [(i, _config_name(s)) for i, s in enumerate(body) if _config_name(s)]
        if len(at) != 1:
            return tree
        index, config = at[0]
        value = f'{name}.url.render_as_string(hide_password=False).replace("%", "%%")'
        statement = cst.parse_statement(f'{config}.set_main_option("{_URL_KEY}", {value})\n')
        own = [i for i, s in enumerate(body) if i > index and _sets_url(s, config)]
        imported = f"from {module} import {engine.target}" + ("" if name == engine.target else f" as {name}")
        # The import goes right above the statement that sets the URL, below whatever makes the app's package
        # importable (a `sys.path.insert`, an import of the package): above them it fails with ModuleNotFoundError.
        ready = max((i for i, s in enumerate(body) if not isinstance(s, (cst.FunctionDef, cst.ClassDef))
                     and _readies(self.code(s), module.split(".")[0])), default=-1)
        if own:  # env.py writes a URL of its own after reading the config: that statement gets the app's
            if ready > own[-1]:
                return tree
            before = self.code(body[own[-1]]).strip()
            body[own[-1]:own[-1] + 1] = [cst.parse_statement(imported + "\n").with_changes(
                leading_lines=body[own[-1]].leading_lines), statement]
        else:
            before = self.code(body[index]).strip()
            at = max(index, ready) + 1
            body[at:at] = [cst.parse_statement(imported + "\n"), statement]
        self.report(Finding(
            rule=self.RULE_ID,
            category=Category.CONFIG,
            severity=Severity.HIGH,
            problem="alembic's env.py connects to a compose host, not the URL the app reads",
            root_cause=f"The documented start runs `alembic upgrade` before the server; env.py's engine "
                       f"({failure.path}:{failure.line}) reads `sqlalchemy.url`, which names a host only the "
                       f"compose network resolves, while the app's engine ({engine.path}:{engine.line}) reads "
                       f"{', '.join(engine.names)} from the environment.",
            old_code=before,
            new_code=f"{imported}\n\n{self.code(statement).strip()}",
            explanation=f"env.py now puts the app's engine URL into alembic's config (the same variable and the "
                        f"same conversion as `{posixpath.basename(engine.path)}`): the migrations connect where "
                        "the app connects.",
            defects=self.DEFECTS,
            evidence=cite(self.facts, failure),
        ))
        return tree.with_changes(body=body)
