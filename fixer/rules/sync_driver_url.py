"""FX005 sync-driver-url: On SQLAlchemy 2.1, a sync engine's postgresql:// URL must name psycopg2.

## What it does
Rewrites `postgresql://` and `postgres://` to `postgresql+psycopg2://` in URLs that reach only sync engines
(a string literal, or the leading text of an f-string that assembles the URL from parts):
the argument of `create_engine(...)`, defaults of settings fields and environment variables only sync engines
read, and the same keys in `.env*` and compose files. Where `create_engine(...)` takes its URL at run time, it
wraps it in a small `to_psycopg2_database_url` function added once to the module: a plain `postgres(ql)://`
gets `+psycopg2`, every other URL passes through as it is.

## Why is this bad?
SQLAlchemy 2.1 made psycopg (version 3) the default driver of `postgresql://`. A project that installs only
psycopg2 and builds a sync engine on `postgresql://` (an all-sync app, a Celery or Alembic engine beside the
async one, a reporting engine) stops at startup with `ModuleNotFoundError: No module named 'psycopg'` the day
a fresh install picks SQLAlchemy 2.1 (ENG-SYNC-DEFAULT-DRIVER).

## Example
```python
engine = create_engine("postgresql://app:app@localhost/app")
```

## Use instead
```python
engine = create_engine("postgresql+psycopg2://app:app@localhost/app")
```

## Fix safety
Safe: made only where SQLAlchemy 2.1 can install (and the documented start's own install, a Dockerfile's `uv sync`
of a lock for one, does not give 2.0), psycopg2 is declared and psycopg 3 is not, so the URL fails
today and the new one works on every version the project can install. The run-time wrap is safe where the
project shows a URL that reaches the engine as plain `postgresql://` (after its own rewrites), where the
prediction of the documented start fails there, or where a server module's engine reads `DATABASE_URL`, which
hosting platforms set to `postgresql://...` (URL-TWO-DIALECTS: one URL for a sync and an async engine is fixed
at each engine); unsafe (made with `--unsafe-fixes`) otherwise; never around sqlite-only engines. psycopg2 itself is never
touched: the sync engine keeps needing it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import ClassVar

import libcst as cst

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel, Role
from fixer.model.evidence import PLATFORM_URL, cite, platform_sets, predicted
from fixer.rules.base import FixerCodemod, TextRule
from fixer.rules.sync_driver_dependency import line_needed, url_fix_fits
from fixer.rules.database_url import last_name
from fixer.rules.url_normaliser import defined_names, insert_helper
from fixer.rules.database_url_text import COMPOSE_NAME, ENV_KEY
from fixer.rules.tree_walk import POSTGRES_STRING, words

RULE_ID = "FX005"
RULE_NAME = "sync-driver-url"
_DEFAULT_SCHEME = re.compile(r"(?<![\w+.-])(?:postgres|postgresql)://")
_SYNC_FACTORIES = frozenset({"create_engine", "engine_from_config"})
_TEXT_METHODS = frozenset({"replace", "startswith", "endswith", "removeprefix", "removesuffix", "split", "partition", "find", "index", "count"})
_ENTERED = _SYNC_FACTORIES | {POSTGRES_STRING}
_ERROR = "ModuleNotFoundError: No module named 'psycopg'"
HELPER_NAME = "to_psycopg2_database_url"
HELPER_SOURCE = '''\
def to_psycopg2_database_url(url: str) -> str:
    """Name psycopg2 in a plain PostgreSQL URL: SQLAlchemy 2.1 loads psycopg 3 for postgresql://.

    Added by fixer (FX005): this project installs psycopg2 only; str(url) would hide the password.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)
'''


def applies(model: ProjectModel) -> bool:
    """SQLAlchemy 2.1 installs, with psycopg2 and without psycopg 3, and no failing engine calls for the
    driver's own dependency line instead (fixer.rules.sync_driver_dependency)."""
    return url_fix_fits(model) and not line_needed(model)


def _sync_only(model: ProjectModel, names: list[str]) -> bool:
    return bool(names) and all(model.url_consumers(name) == {"sync"} for name in names)


def _finding(model: ProjectModel, where: str, old: str, new: str, line: int | None = None) -> Finding:
    return Finding(
        rule=RULE_ID,
        category=Category.DATABASE,
        severity=Severity.CRITICAL,
        problem=f"A sync engine's `postgresql://` URL ({where}) loads psycopg 3 on SQLAlchemy 2.1, which is not installed.",
        root_cause=(
            "SQLAlchemy 2.1 made psycopg (3) the default driver of `postgresql://`; this project installs only "
            f"psycopg2, so the engine fails at startup with `{_ERROR}`."
        ),
        old_code=old,
        new_code=new,
        explanation="Name the installed driver: `postgresql+psycopg2://` works on every SQLAlchemy the project can install.",
        defects=("ENG-SYNC-DEFAULT-DRIVER",),
        line=line,
        evidence=model.versions.judged_against("sqlalchemy", "psycopg2-binary", "psycopg2"),
    )


class SyncDriverUrlCodemod(FixerCodemod):
    """A sync engine's postgresql:// URL must name psycopg2 on SQLAlchemy 2.1

    **What it does.** Rewrites `postgresql://` and `postgres://` to `postgresql+psycopg2://` in string literals
    (and an f-string's leading text) that reach only sync engines: the argument of `create_engine(...)`, and defaults of settings fields or
    environment variables that only sync engines read. Where `create_engine(...)` takes its URL at run time
    (settings, the environment), wraps it as `create_engine(to_psycopg2_database_url(URL))` and adds that small
    function (SQLAlchemy's `make_url`) once to the module: plain `postgres(ql)://` gets `+psycopg2`, every other
    URL passes through as it is.

    **Why.** SQLAlchemy 2.1 loads psycopg 3 for `postgresql://`; with only psycopg2 installed the engine fails
    at startup with `ModuleNotFoundError: No module named 'psycopg'` (ENG-SYNC-DEFAULT-DRIVER).

    **Example**::

        engine = create_engine("postgresql://app:app@localhost/app")

    **Use instead**::

        engine = create_engine("postgresql+psycopg2://app:app@localhost/app")

    **Fix safety.** Safe: made only when the project can install SQLAlchemy 2.1 and psycopg2 without psycopg 3,
    so the URL fails today and the new one works on every version it can install. The run-time wrap is safe
    where the project shows a URL that reaches the engine as plain `postgresql://` (after its own `.replace`
    rewrites), unsafe where it shows none; never around sqlite-only engines.
    """

    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = RULE_NAME
    DEFECTS: ClassVar[tuple[str, ...]] = ("ENG-SYNC-DEFAULT-DRIVER",)
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"postgres(?:ql)?://|\b(?:create_engine|engine_from_config)\b")

    def visit_Module(self, node: cst.Module) -> bool:
        self._read_as: list[list[str]] = []
        self._text_args: set[int] = set()
        self._sync_call = 0
        self._fixed_names: set[str] = set()  # names whose URL this module now gives with the driver
        path = (self.context.filename or "").replace("\\", "/")
        self._sites = [e for e in sorted(self.facts.flow.engines, key=lambda e: e.line) if e.path == path and not e.async_use]
        self._wrapped = False
        names, self._has_make_url = defined_names(node)
        # A module that defines the helper already (a second run), or a make_url of its own, gets no new one.
        self._may_add_helper = HELPER_NAME not in names and ("make_url" not in names or self._has_make_url)
        return applies(self.facts)

    def enters(self, statement: cst.BaseStatement) -> bool:
        return not words(statement).isdisjoint(_ENTERED)

    def visit_Expr(self, node: cst.Expr) -> bool:
        return not isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))

    def visit_Comparison(self, node: cst.Comparison) -> bool:
        return False  # `if url == "postgresql+psycopg2://..."` tests the input: rewriting it changes the test

    def visit_Assign(self, node: cst.Assign) -> None:
        self._read_as.append([last_name(t.target) for t in node.targets if last_name(t.target)])

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        self._read_as.pop()
        return updated_node

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._read_as.append([last_name(node.target)] if last_name(node.target) else [])

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        self._read_as.pop()
        return updated_node

    def visit_Call(self, node: cst.Call) -> None:
        callee = last_name(node.func)
        self._sync_call += callee in _SYNC_FACTORIES
        if isinstance(node.func, cst.Attribute) and callee in _TEXT_METHODS:
            # `url.replace("postgres://", "postgresql://", 1)`: what it looks for and puts back are no URLs; the
            # engine's own argument is where the driver is named.
            self._text_args.update(id(arg.value) for arg in node.args)
        key = node.args[0].value if node.args and callee in ("getenv", "get") else None
        self._read_as.append([key.evaluated_value] if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str) else [])

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        sync = last_name(original_node.func) in _SYNC_FACTORIES
        self._sync_call -= sync
        self._read_as.pop()
        if sync and self._sites:
            return self._runtime_url(self._sites.pop(0), original_node, updated_node)
        return updated_node

    def _runtime_url(self, site, original: cst.Call, updated: cst.Call) -> cst.Call:
        """A URL read at run time (settings, the environment, where a platform injects `postgresql://`): the
        engine names the driver itself, `create_engine(to_psycopg2_database_url(url))`. Safe where the project
        shows a URL that reaches this engine as plain `postgresql://` (after its own `.replace(...)`, if any);
        unsafe where it shows none."""
        args = list(updated.args)
        index = next((i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == "url"), None)
        if index is None and args and args[0].keyword is None and not args[0].star:
            index = 0
        if index is None or last_name(original.func) != "create_engine" or not self._may_add_helper:
            return updated  # engine_from_config: the URL is inside a mapping
        value = args[index].value
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return updated
        if isinstance(value, cst.Call) and last_name(value.func) == HELPER_NAME:
            return updated
        if site.sqlite or (site.url.literal is not None and not site.url.names):
            return updated
        if any(step in self.facts.flow.url_helpers for step in site.url.through):
            return updated  # the project's own code names the driver (`make_url(url).set(drivername=...)`)
        platform = self._platform_failure(site)
        if any(name.upper() in self._fixed_names for name in site.url.names) and not platform:
            return updated  # the value this module gives it now names the driver (and no platform overrides it)
        shipped = self.facts.shipped_for(site.url.names)
        failing = [s for s in shipped if self._reaches_as_default_driver(site, self._scheme_after_run(s))]
        if shipped and not failing and not platform:
            return updated  # every value the project shows names its driver (or is not PostgreSQL)
        args[index] = args[index].with_changes(value=cst.Call(func=cst.Name(HELPER_NAME), args=[cst.Arg(value=value)]))
        new = updated.with_changes(args=args)
        safe = bool(failing or platform)
        made = safe or self.facts.unsafe_fixes
        finding = _finding(self.facts, "read at run time", self.code(original), self.code(new))
        shown = "; ".join([f"{s.path}:{s.line} {s.key}={s.scheme}://..." for s in failing] + ([platform] if platform else []))
        self.report(
            replace(
                finding,
                fixed=made,
                safe=safe,
                evidence=f"the project shows this input: {shown}; {finding.evidence}" if shown else finding.evidence,
                explanation=(
                    "The URL comes from settings or the environment, where a platform injects `postgresql://`: the "
                    f"engine now names the installed driver itself through `{HELPER_NAME}`, added to this module "
                    "(other databases and explicit drivers pass through unchanged)."
                ),
            )
        )
        if not made:
            return updated
        self._wrapped = True
        return new

    def _platform_failure(self, site) -> str:
        """The failure the platform URL meets at this engine, as evidence ("" when it meets none): the
        prediction's, or, for a variable a platform sets, its `postgresql://` reaching the engine as it is."""
        failure = predicted(self.facts, RULE_ID, site.path)
        if failure is not None:
            return cite(self.facts, failure)
        shipped = self.facts.shipped_for(site.url.names)
        if shipped and all(s.scheme.startswith("sqlite") for s in shipped):
            return ""  # a sqlite project: no platform gives it PostgreSQL
        if self.facts.role(site.path) is Role.LIVE and platform_sets(site.url.names) \
                and self._reaches_as_default_driver(site, "postgresql"):
            return f"the platform URL {PLATFORM_URL.split('?')[0]}?... reaches it as postgresql://"
        return ""

    def _scheme_after_run(self, shipped) -> str:
        """The scheme a shown URL has once this run is written: FX004 makes a `.env`/compose URL that an async
        engine reads `postgresql+asyncpg://`, and that, not today's value, is what then reaches this engine."""
        name = shipped.path.rsplit("/", 1)[-1]
        rewritten_by_fx004 = (
            self.facts.async_db
            and (name.startswith(".env") or COMPOSE_NAME.fullmatch(name) is not None)
            and shipped.scheme in ("postgres", "postgresql", "postgresql+psycopg2")
            and "async" in self.facts.url_consumers(shipped.key)
            and self.facts.leave_url_alone([shipped.key], "postgresql://", "postgresql+asyncpg://") is None
        )
        return "postgresql+asyncpg" if rewritten_by_fx004 else shipped.scheme

    def _reaches_as_default_driver(self, site, scheme: str) -> bool:
        """Whether a URL of `scheme` reaches this engine as `postgres(ql)://`, after the project's own rewrites."""
        url = f"{scheme}://h/db"
        for rewrite in self.facts.flow.rewrites:
            if rewrite.path == site.path and "str.replace" in site.url.through:
                url = url.replace(rewrite.old, rewrite.new)
        return url.split("://", 1)[0] in ("postgres", "postgresql")

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._wrapped:
            return updated_node
        return insert_helper(self.context, updated_node, HELPER_NAME, HELPER_SOURCE, self._has_make_url)

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.BaseExpression:
        if id(original_node) in self._text_args:
            return updated_node
        if "b" in updated_node.prefix.lower() or not _DEFAULT_SCHEME.match(updated_node.value[len(updated_node.prefix) + len(updated_node.quote) :]):
            return updated_node
        if not self._reaches_sync_only():
            return updated_node
        new = updated_node.with_changes(value=_DEFAULT_SCHEME.sub("postgresql+psycopg2://", updated_node.value, count=1))
        self.report(_finding(self.facts, "a Python string literal", self.code(original_node), self.code(new)))
        return new

    def leave_FormattedString(self, original_node: cst.FormattedString, updated_node: cst.FormattedString
                              ) -> cst.BaseExpression:
        """`f"postgresql://{user}:{password}@{host}/{db}"`: a URL built from parts names its scheme in the
        f-string's leading text, which is where the driver goes, as in a plain literal."""
        parts = list(updated_node.parts)
        first = parts[0] if parts else None
        if id(original_node) in self._text_args or "b" in updated_node.prefix.lower() \
                or not isinstance(first, cst.FormattedStringText) or not _DEFAULT_SCHEME.match(first.value):
            return updated_node
        if not self._reaches_sync_only():
            return updated_node
        parts[0] = first.with_changes(value=_DEFAULT_SCHEME.sub("postgresql+psycopg2://", first.value, count=1))
        new = updated_node.with_changes(parts=parts)
        self.report(_finding(self.facts, "a Python f-string", self.code(original_node), self.code(new)))
        return new

    def _reaches_sync_only(self) -> bool:
        """Whether the string being left is a sync engine's argument, or read under names only sync engines read
        (`URL = os.getenv("DATABASE_URL", "...")` is read as DATABASE_URL, the innermost name); those names then
        give the engine the driver."""
        names = next((names for names in reversed(self._read_as) if names), [])
        if not (self._sync_call or _sync_only(self.facts, names)):
            return False
        self._fixed_names.update(name.upper() for name in names)
        return True


class SyncDriverUrlTextRule(TextRule):
    """Sync-engine URLs in .env and compose files must name psycopg2 on SQLAlchemy 2.1

    **What it does.** In `.env*` and compose files, rewrites `postgresql://` / `postgres://` to
    `postgresql+psycopg2://` on lines that set a variable only sync engines read.

    **Why.** SQLAlchemy 2.1 loads psycopg 3 for `postgresql://`; with only psycopg2 installed the engine fails at
    startup with `ModuleNotFoundError: No module named 'psycopg'` (ENG-SYNC-DEFAULT-DRIVER).

    **Example** (.env)::

        REPORTS_DATABASE_URL=postgresql://app:app@db/app

    **Use instead**::

        REPORTS_DATABASE_URL=postgresql+psycopg2://app:app@db/app

    **Fix safety.** Safe, under the same conditions as the Python half; only the scheme changes, the rest of
    the line stays byte for byte.
    """

    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = RULE_NAME
    DEFECTS: ClassVar[tuple[str, ...]] = ("ENG-SYNC-DEFAULT-DRIVER",)

    def applies_to(self, path: str) -> bool:
        from fixer.model.database import is_url_file

        name = path.rsplit("/", 1)[-1]
        return is_url_file(path) and not name.lower().startswith("readme") and name != "alembic.ini"

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        if not applies(facts):
            return text, []
        lines = text.split("\n")
        findings = []
        for number, line in enumerate(lines, start=1):
            key = ENV_KEY.match(line)
            if key is None or line.lstrip().startswith("#") or not _sync_only(facts, [key[1]]):
                continue
            new = _DEFAULT_SCHEME.sub("postgresql+psycopg2://", line, count=1)
            if new != line:
                lines[number - 1] = new
                findings.append(_finding(facts, f"{path} line {number}", line.rstrip("\r"), new.rstrip("\r"), number))
        return ("\n".join(lines), findings) if findings else (text, [])
