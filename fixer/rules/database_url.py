"""FX004 async-database-url: Every PostgreSQL URL the async engine can see must name asyncpg and speak its query.

## What it does
Rewrites `postgres://`, `postgresql://` and `postgresql+psycopg2://` URLs that an async engine reads to
`postgresql+asyncpg://`, turns `sslmode=X` into `ssl=X` and drops `channel_binding`, wherever the URL lives:
`.env` and `.env.*` files, the `sqlalchemy.url` of `alembic.ini` (with `%%` for a `%`), the `environment:` of
compose services built from the project, and Python string literals (settings defaults, `os.getenv`
fallbacks, arguments of `create_async_engine`, and of the `create_engine` that `AsyncEngine(create_engine(...))`
makes async). Where `create_async_engine` (or that wrapped `create_engine`) takes its URL at run time, it wraps
it in a small `to_async_database_url` function added once to the module, which does the same to the URL a
hosting platform injects. In alembic's env.py, where `async_engine_from_config(config.get_section(...))` (or
`AsyncEngine(engine_from_config(...))`) reads
the URL env.py put into alembic's config (`config.set_main_option("sqlalchemy.url", URL)`), that URL is
wrapped the same way, when the documented `alembic upgrade head` is predicted to fail there. Where the
documented start's install gives psycopg 3 and not asyncpg (`psycopg[binary]` on SQLAlchemy 2.0), the driver
written is psycopg instead: `postgresql+psycopg://`, the query kept as it is (psycopg 3 is async and reads
`sslmode` and `channel_binding`), so no dependency is added.

## Why is this bad?
`create_async_engine` fails at startup on a sync driver: `InvalidRequestError: The asyncio extension requires
an async driver to be used` (URL-PLAIN, URL-PSYCOPG2) or `NoSuchModuleError: Can't load plugin:
sqlalchemy.dialects:postgres` (URL-POSTGRES); and at the first connection on libpq's parameters: `TypeError:
connect() got an unexpected keyword argument 'sslmode'` (URL-NEON-SSL). Neon, Heroku and Render inject
`DATABASE_URL=postgresql://...?sslmode=require&channel_binding=require` into the environment, which beats
`.env` (URL-WHERE), so fixed files alone are not enough. In alembic.ini a bare `%` stops alembic with
`InterpolationSyntaxError` (URL-ALEMBIC-PCT).

## Example
```text
# .env
DATABASE_URL=postgresql://app:secret@ep-1.neon.tech/app?sslmode=require&channel_binding=require
```
```python
engine = create_async_engine(settings.DATABASE_URL, echo=False)
```

## Use instead
```text
# .env
DATABASE_URL=postgresql+asyncpg://app:secret@ep-1.neon.tech/app?ssl=require
```
```python
from sqlalchemy.engine import make_url


def to_async_database_url(url: str) -> str:
    ...  # postgresql:// and sslmode become what asyncpg reads


engine = create_async_engine(to_async_database_url(settings.DATABASE_URL), echo=False)
```

## Fix safety
Safe for a URL an async engine reads and the project does not rewrite itself: only the scheme and the query
change, and everything else on the line (quotes, comments, `export`, the password, line endings) stays byte
for byte. The run-time wrap is safe where the prediction of the documented start fails at the engine, where
the project shows such a URL reaching it, or where the engine reads `DATABASE_URL`, which hosting platforms set
to `postgresql://user:pass@host/db?sslmode=require&channel_binding=require`, and that URL, run through the
project's own rewrites, still fails there (the finding cites the failure); unsafe (made with `--unsafe-fixes`)
where none of these holds. An async engine the platform URL works for (`postgresql://` on SQLAlchemy 2.1 with
psycopg 3 installed, VER-SA21-ASYNC-PSYCOPG) is left alone. Left alone too: URLs meant for a sync consumer (`SYNC_DATABASE_URL`,
arguments of an unwrapped `create_engine`), test inputs, sqlite, docstrings, a project's own normaliser or `.replace(...)`
rewrite (SHAPE-OWN-NORMALISER, SHAPE-OWN-REPLACE, SHAPE-TEST-INPUT), and `postgresql+psycopg://`, which is
async already (URL-PSYCOPG3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from fixer.model import Role
from fixer.model.urls import to_async_url
from fixer.rules.base import FixerCodemod
from fixer.rules.findings import Category, Finding, Severity
from fixer.rules.tree_walk import POSTGRES_STRING, words

RULE_ID = "FX004"
RULE_NAME = "async-database-url"

# --------------------------------------------------------------------------------------------------
# What a change means: defect IDs and the words of the finding.

ROOT_CAUSES = {
    "URL-PLAIN": (
        "`postgresql://` selects a synchronous driver (psycopg2 on SQLAlchemy 2.0, psycopg 3 on 2.1), which "
        "create_async_engine refuses: `InvalidRequestError: The asyncio extension requires an async driver to be "
        "used. The loaded 'psycopg2' is not async.` (SQLAlchemy 2.1 with only psycopg2: "
        "`ModuleNotFoundError: No module named 'psycopg'`)."
    ),
    "URL-POSTGRES": (
        "`postgres://` is no SQLAlchemy dialect name: "
        "`NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:postgres`."
    ),
    "URL-PSYCOPG2": (
        "psycopg2 is synchronous, so create_async_engine refuses it: `InvalidRequestError: The asyncio extension "
        "requires an async driver to be used. The loaded 'psycopg2' is not async.`"
    ),
    "URL-NEON-SSL": (
        "asyncpg's connect() has no libpq `sslmode` or `channel_binding` argument: `TypeError: connect() got an "
        "unexpected keyword argument 'sslmode'` on the first connection. asyncpg spells it `ssl=`."
    ),
    "URL-ALEMBIC-PCT": (
        "alembic reads alembic.ini through configparser interpolation, so a single `%` (percent-encoding in the "
        "URL) raises `InterpolationSyntaxError: '%' must be followed by '%' or '('`."
    ),
}

_SCHEME_DEFECT = (
    ("postgresql+psycopg2://", "URL-PSYCOPG2"),
    ("postgresql://", "URL-PLAIN"),
    ("postgres://", "URL-POSTGRES"),
)
_LIBPQ_PARAM = re.compile(r"[?&](?:sslmode|channel_binding)=")


def url_defects(changes: Sequence[tuple[str, str]]) -> list[str]:
    """Defect IDs behind a list of (old URL, new URL) rewrites."""
    found: list[str] = []
    for old, _new in changes:
        for scheme, defect in _SCHEME_DEFECT:
            if old.startswith(scheme):
                found.append(defect)
                break
        if _LIBPQ_PARAM.search(old) and not _LIBPQ_PARAM.search(_new):  # psycopg 3 keeps them: no defect
            found.append("URL-NEON-SSL")
    return list(dict.fromkeys(found))


def url_finding(
    *,
    defects: Sequence[str],
    where: str,
    old_code: str,
    new_code: str,
    line: int | None = None,
    driver: str = "asyncpg",
) -> Finding:
    problems = []
    if any(d in defects for d in ("URL-PLAIN", "URL-POSTGRES", "URL-PSYCOPG2")):
        problems.append("names a driver create_async_engine cannot use")
    if "URL-NEON-SSL" in defects:
        problems.append("carries libpq's sslmode/channel_binding, which asyncpg rejects")
    if "URL-ALEMBIC-PCT" in defects:
        problems.append("has an unescaped `%` that configparser rejects")
    explanation = []
    if any(d in defects for d in ("URL-PLAIN", "URL-POSTGRES", "URL-PSYCOPG2")):
        explanation.append(f"the scheme is now `postgresql+{driver}://`")
    if "URL-NEON-SSL" in defects:
        explanation.append("`sslmode=X` became `ssl=X` and `channel_binding` was dropped")
    if "URL-ALEMBIC-PCT" in defects:
        explanation.append("every `%` is written `%%`, which configparser reads back as `%`")
    said = "; ".join(explanation)
    explanation_text = (
        said[:1].upper() + said[1:] + ". Password, percent-encoding and the other query parameters are kept as written."
    )
    return Finding(
        rule=RULE_ID,
        category=Category.CONFIG,
        severity=Severity.CRITICAL,
        problem=f"The database URL in {where} " + " and ".join(problems) + ".",
        root_cause=" ".join(ROOT_CAUSES[d] for d in defects if d in ROOT_CAUSES),
        old_code=old_code,
        new_code=new_code,
        explanation=explanation_text,
        defects=tuple(dict.fromkeys([*defects, "URL-WHERE"])),
        line=line,
    )


# A name meant for a synchronous consumer keeps its URL (SYNC_DATABASE_URL, database_url_sync); not "async".
SYNC_NAME = re.compile(r"(?<![A-Za-z])sync", re.IGNORECASE)

# --------------------------------------------------------------------------------------------------
# Text files


# Private-use characters stand for text a rewrite must keep opaque (interpolations, f-string expressions).
OPEN, CLOSE = "\ue000", "\ue001"
SENTINEL = re.compile(f"{OPEN}(\\d+){CLOSE}")


# --------------------------------------------------------------------------------------------------
# Python literals

STRING_TYPES = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
# Calls whose URL goes to a synchronous engine or straight to a driver that wants libpq's form.
_SYNC_CALLS = frozenset({"create_engine", "engine_from_config", "connect", "create_pool"})


def last_name(func: cst.BaseExpression) -> str | None:
    """`create_engine` of `create_engine` or `sqlalchemy.create_engine`; `URL` of `settings.URL`."""
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def target_names(node: cst.BaseExpression) -> list[str]:
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, cst.Attribute):
        return [node.attr.value]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [name for element in node.elements for name in target_names(element.value)]
    return []


def _string_leaves(node: cst.BaseExpression) -> list[cst.SimpleString | cst.FormattedString] | None:
    """The literal parts of a (possibly implicitly concatenated) string, or None for bytes."""
    if isinstance(node, cst.ConcatenatedString):
        left, right = _string_leaves(node.left), _string_leaves(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, (cst.SimpleString, cst.FormattedString)):
        return None if "b" in node.prefix.lower() else [node]
    return None


def _rewrite_string(node: cst.BaseExpression, driver: str) -> tuple[cst.BaseExpression, list[tuple[str, str]]] | None:
    """`node` with its URL rewritten, or None when it holds none to change.

    The literal text is rewritten as written (escapes, percent-encoding untouched). F-string expressions and
    the seams between implicitly concatenated parts become sentinels, so that a rewrite never moves text
    across them; a rewrite that would (a dropped parameter spanning two parts) is given up.
    """
    leaves = _string_leaves(node)
    if not leaves:
        return None
    expressions: list[cst.BaseFormattedStringContent] = []
    seams: list[int] = []
    flat: list[str] = []
    for index, leaf in enumerate(leaves):
        if index:
            expressions.append(cst.FormattedStringText(value=""))  # placeholder slot for the seam
            seams.append(len(expressions) - 1)
            flat.append(f"{OPEN}{len(expressions) - 1}{CLOSE}")
        if isinstance(leaf, cst.SimpleString):
            body = leaf.value[len(leaf.prefix) + len(leaf.quote) : -len(leaf.quote)]
            flat.append(body)
            continue
        for part in leaf.parts:
            if isinstance(part, cst.FormattedStringText):
                flat.append(part.value)
            else:
                expressions.append(part)
                flat.append(f"{OPEN}{len(expressions) - 1}{CLOSE}")
    text = "".join(flat)
    if text.count(OPEN) != len(expressions) or text.count(CLOSE) != len(expressions):
        return None  # the literal itself holds a sentinel character
    new = to_async_url(text, driver)
    if new is None:
        return None
    survivors = [int(m[1]) for m in SENTINEL.finditer(new)]
    if survivors != sorted(set(survivors)) or not set(seams) <= set(survivors):
        return None

    # Cut the new text back into leaves at the seams, and each f-string leaf into parts.
    pieces = re.split(f"{OPEN}(?:{'|'.join(map(str, seams))}){CLOSE}", new) if seams else [new]
    new_leaves: list[cst.BaseExpression] = []
    for leaf, piece in zip(leaves, pieces, strict=True):
        if isinstance(leaf, cst.SimpleString):
            quote, prefix = leaf.quote, leaf.value[: len(leaf.prefix)]  # .prefix is lower-cased
            new_leaves.append(leaf.with_changes(value=f"{prefix}{quote}{piece}{quote}"))
            continue
        parts: list[cst.BaseFormattedStringContent] = []
        for chunk in re.split(f"({OPEN}\\d+{CLOSE})", piece):
            sentinel = SENTINEL.fullmatch(chunk)
            if sentinel:
                parts.append(expressions[int(sentinel[1])])
            elif chunk:
                parts.append(cst.FormattedStringText(value=chunk))
        new_leaves.append(leaf.with_changes(parts=parts))

    leaf_iter = iter(new_leaves)

    def rebuild(original: cst.BaseExpression) -> cst.BaseExpression:
        if isinstance(original, cst.ConcatenatedString):
            return original.with_changes(left=rebuild(original.left), right=rebuild(original.right))
        return next(leaf_iter)

    return rebuild(node), [(text, new)]


class DatabaseUrlCodemod(FixerCodemod):
    """Database URL literals in Python must use postgresql+asyncpg://

    **What it does.** Rewrites string literals (any quote or prefix but bytes, f-strings whose text starts
    with the scheme, implicitly concatenated parts) that hold a `postgres://`, `postgresql://` or
    `postgresql+psycopg2://` URL to `postgresql+asyncpg://`, and on asyncpg URLs turns `sslmode=X` into `ssl=X`
    and drops `channel_binding`: pydantic-settings defaults, `os.getenv` fallbacks, literals passed to
    create_async_engine (URL-WHERE).

    **Why.** create_async_engine fails at startup on a sync driver (URL-PLAIN, URL-POSTGRES, URL-PSYCOPG2)
    and at the first connection on libpq parameters (URL-NEON-SSL).

    **Example**::

        class Settings(BaseSettings):
            DATABASE_URL: str = "postgresql://postgres:postgres@localhost:5432/app"

    **Use instead**::

        class Settings(BaseSettings):
            DATABASE_URL: str = "postgresql+asyncpg://postgres:postgres@localhost:5432/app"

    **Fix safety.** Quote style, prefix, escapes and the password stay as written. Left alone: files that
    still need psycopg2 (`facts.sync_driver_users`), docstrings, a bare scheme (`url.replace("postgres://",
    ...)`), names meant for a sync consumer (`SYNC_DATABASE_URL`), arguments of `create_engine` (unless
    `AsyncEngine(...)` wraps it),
    `engine_from_config`, `*.connect` and `create_pool`, and `postgresql+psycopg://` (URL-PSYCOPG3).
    """

    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = RULE_NAME
    DEFECTS: ClassVar[tuple[str, ...]] = ("URL-PLAIN", "URL-POSTGRES", "URL-PSYCOPG2", "URL-NEON-SSL", "URL-WHERE")
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(
        rb"postgres(?:ql)?(?:\+psycopg2)?://|postgresql\+asyncpg://[^\s\"']*[?&](?:sslmode|channel_binding)="
    )

    def _is_sync_user(self) -> bool:
        filename = (self.context.filename or "").replace("\\", "/")
        if not filename:
            return False
        return any(filename == path or filename.endswith("/" + path) for path in self.facts.sync_driver_users)

    def visit_Module(self, node: cst.Module) -> bool:
        from fixer.model import Role

        self._read_as: list[list[str]] = []  # the names the literal being visited is read under (settings, env)
        self._made_async: set[int] = set()  # `create_engine` calls wrapped as `AsyncEngine(create_engine(...))`
        # A test's URL literal is the input of the code under test (SHAPE-TEST-INPUT): never data to fix.
        role = self.facts.role((self.context.filename or "").replace("\\", "/"))
        return self.facts.async_db and not self._is_sync_user() and role is not Role.TEST

    def enters(self, statement: cst.BaseStatement) -> bool:
        return POSTGRES_STRING in words(statement)

    # Places whose strings are left alone: returning False skips the subtree.

    def visit_Expr(self, node: cst.Expr) -> bool:
        return not isinstance(node.value, STRING_TYPES)  # docstrings and bare strings do not run

    def visit_Assign(self, node: cst.Assign) -> bool:
        names = [name for target in node.targets for name in target_names(target.target)]
        self._read_as.append(names)
        return not any(SYNC_NAME.search(name) for name in names)

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        self._read_as.pop()
        return updated_node

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        names = target_names(node.target)
        self._read_as.append(names)
        return not any(SYNC_NAME.search(name) for name in names)

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        self._read_as.pop()
        return updated_node

    def visit_Arg(self, node: cst.Arg) -> bool:
        return node.keyword is None or not SYNC_NAME.search(node.keyword.value)

    def visit_Comparison(self, node: cst.Comparison) -> bool:
        return False  # `if url == "postgresql+psycopg2://..."` tests the input: rewriting it changes the test

    def visit_Call(self, node: cst.Call) -> bool:
        # os.getenv("DATABASE_URL", "postgresql://..."): the default is read as DATABASE_URL
        key = node.args[0].value if node.args and last_name(node.func) in ("getenv", "get") else None
        self._read_as.append([key.evaluated_value] if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str) else [])
        inner = node.args[0].value if node.args else None
        # The engine AsyncEngine wraps is async: its URL needs the async driver (with psycopg (3), the sync
        # dialect create_engine would load from `+psycopg` is refused too: left alone).
        if last_name(node.func) == "AsyncEngine" and isinstance(inner, cst.Call) and self.facts.async_driver() != "psycopg":
            self._made_async.add(id(inner))
        return last_name(node.func) not in _SYNC_CALLS or id(node) in self._made_async

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        self._read_as.pop()
        return updated_node

    # The literals: a concatenation is handled whole, so its parts are not visited on their own.

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        return False

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        return False

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.BaseExpression:
        return self._leave_string(original_node, updated_node)

    def leave_FormattedString(
        self, original_node: cst.FormattedString, updated_node: cst.FormattedString
    ) -> cst.BaseExpression:
        return self._leave_string(original_node, updated_node)

    def leave_ConcatenatedString(
        self, original_node: cst.ConcatenatedString, updated_node: cst.ConcatenatedString
    ) -> cst.BaseExpression:
        return self._leave_string(original_node, updated_node)

    def _leave_string(self, original_node: cst.BaseExpression, updated_node: cst.BaseExpression) -> cst.BaseExpression:
        rewritten = _rewrite_string(updated_node, self.facts.async_driver())
        if rewritten is None:
            return updated_node
        new_node, changes = rewritten
        names = [name for names in self._read_as for name in names]
        if self.facts.leave_url_alone(names, changes[0][0], changes[0][1]):
            return updated_node
        self.report(
            url_finding(
                defects=url_defects(changes),
                where="a Python string literal",
                old_code=self.code(original_node),
                new_code=self.code(new_node),
                driver=self.facts.async_driver(),
            )
        )
        return new_node
