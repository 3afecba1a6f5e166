"""FX004 async-database-url: Every PostgreSQL URL the async engine can see must name asyncpg and speak its query.

## What it does
Rewrites `postgres://`, `postgresql://` and `postgresql+psycopg2://` URLs that an async engine reads to
`postgresql+asyncpg://`, turns `sslmode=X` into `ssl=X` and drops `channel_binding`, wherever the URL lives:
`.env` and `.env.*` files, the `sqlalchemy.url` of `alembic.ini` (with `%%` for a `%`), the `environment:` of
compose services built from the project, and Python string literals (settings defaults, `os.getenv`
fallbacks, arguments of `create_async_engine`). Where `create_async_engine` takes its URL at run time, it wraps
it in a small `to_async_database_url` function added once to the module, which does the same to the URL a
hosting platform injects.

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
arguments of `create_engine`), test inputs, sqlite, docstrings, a project's own normaliser or `.replace(...)`
rewrite (SHAPE-OWN-NORMALISER, SHAPE-OWN-REPLACE, SHAPE-TEST-INPUT), and `postgresql+psycopg://`, which is
async already (URL-PSYCOPG3).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import ClassVar

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from fixer.model import ProjectModel, Role
from fixer.model.evidence import PLATFORM_URL, async_engine_error, cite, platform_sets, platform_url_at, predicted
from fixer.model.database import FIXER_NORMALISER
from fixer.rules.findings import Category, Finding, Severity
from fixer.rules.base import FixerCodemod, TextRule
from fixer.rules.tree_walk import POSTGRES_STRING, scan, words
from fixer.model.urls import to_async_url

RULE_ID = "FX004"
RULE_NAME = "async-database-url"

# --------------------------------------------------------------------------------------------------
# What a change means: defect IDs and the words of the finding.

_ROOT_CAUSES = {
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


def _url_defects(changes: Sequence[tuple[str, str]]) -> list[str]:
    """Defect IDs behind a list of (old URL, new URL) rewrites."""
    found: list[str] = []
    for old, _new in changes:
        for scheme, defect in _SCHEME_DEFECT:
            if old.startswith(scheme):
                found.append(defect)
                break
        if _LIBPQ_PARAM.search(old):
            found.append("URL-NEON-SSL")
    return list(dict.fromkeys(found))


def _finding(
    *,
    defects: Sequence[str],
    where: str,
    old_code: str,
    new_code: str,
    line: int | None = None,
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
        explanation.append("the scheme is now `postgresql+asyncpg://`")
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
        root_cause=" ".join(_ROOT_CAUSES[d] for d in defects if d in _ROOT_CAUSES),
        old_code=old_code,
        new_code=new_code,
        explanation=explanation_text,
        defects=tuple(dict.fromkeys([*defects, "URL-WHERE"])),
        line=line,
    )


# A name meant for a synchronous consumer keeps its URL (SYNC_DATABASE_URL, database_url_sync); not "async".
_SYNC_NAME = re.compile(r"(?<![A-Za-z])sync", re.IGNORECASE)

# --------------------------------------------------------------------------------------------------
# Text files


# A PostgreSQL URL token in a text value: stops at whitespace, quotes and braces, but keeps ${VAR} whole.
_URL_TOKEN = re.compile(r"(?<![\w+.])postgres(?:ql)?(?:\+\w+)?://(?:\$\{[^}\s]*\}|[^\s\"'`{}\\])*")
_INLINE_COMMENT = re.compile(r"\s#")
# The variable a .env or compose line sets: `export KEY=`, `- KEY=`, `KEY: `.
ENV_KEY = re.compile(r"\s*(?:export\s+|-\s*)?[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?\s*[=:]")
COMPOSE_NAME = re.compile(r"(?:docker-)?compose[^/]*\.ya?ml")

_ENV_ASSIGN = re.compile(r"[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*=[ \t]*")
_ALEMBIC_URL = re.compile(r"(?P<lead>[ \t]*sqlalchemy\.url[ \t]*[=:][ \t]*)(?P<value>.*?)[ \t]*")
_ALEMBIC_PCT = re.compile(r"%%|%\([^)\s]*\)s|%")
_COMPOSE_MAP = re.compile(r"[ \t]*(?P<q>[\"']?)(?P<key>[^\s:\"'#=\-][^\s:\"'#=]*)(?P=q)[ \t]*:(?:[ \t]+|$)")
_COMPOSE_LIST = re.compile(r"[ \t]*-[ \t]+(?P<q>[\"']?)(?P<key>[^\s:\"'#=]+)=")

# Private-use characters stand for text a rewrite must keep opaque (interpolations, f-string expressions).
_OPEN, _CLOSE = "\ue000", "\ue001"
_SENTINEL = re.compile(f"{_OPEN}(\\d+){_CLOSE}")


def _rewrite_urls(text: str, changes: list[tuple[str, str]]) -> str:
    """Rewrite every URL token of `text` with `to_async_url`, recording (old, new) pairs in `changes`."""

    def sub(match: re.Match[str]) -> str:
        new = to_async_url(match[0])
        if new is None:
            return match[0]
        changes.append((match[0], new))
        return new

    return _URL_TOKEN.sub(sub, text)


def _value_span(line: str, start: int, quote: str = "") -> tuple[int, int]:
    """Where the value starting at `start` lies: inside its quotes, or up to an inline ` #` comment."""
    if not quote and start < len(line) and line[start] in "\"'":
        quote, start = line[start], start + 1
    if quote:
        end = line.find(quote, start)
        return start, end if end >= 0 else len(line)
    comment = _INLINE_COMMENT.search(line, start)
    return start, comment.start() if comment else len(line)


def _rewrite_value(line: str, span: tuple[int, int], changes: list[tuple[str, str]]) -> str:
    begin, end = span
    return line[:begin] + _rewrite_urls(line[begin:end], changes) + line[end:]


def _alembic_value(value: str) -> str:
    """The sqlalchemy.url value with the URL rewritten and every literal `%` escaped as `%%`."""
    keep: list[str] = []

    def decode(match: re.Match[str]) -> str:
        if match[0] in ("%", "%%"):
            return "%"
        keep.append(match[0])  # %(here)s and friends stay interpolations
        return f"{_OPEN}{len(keep) - 1}{_CLOSE}"

    if _OPEN in value or _CLOSE in value:
        return value
    plain = _ALEMBIC_PCT.sub(decode, value)
    plain = _rewrite_urls(plain, [])
    return _SENTINEL.sub(lambda m: keep[int(m[1])], plain.replace("%", "%%"))


class DatabaseUrlTextRule(TextRule):
    """Database URLs in .env, alembic.ini and compose files must use postgresql+asyncpg://

    **What it does.** In `.env` and `.env.*` files (any folder), in the `sqlalchemy.url` of `alembic.ini`,
    and in the `environment:` of `docker-compose*.yml` / `compose*.yml` services built from the project,
    rewrites `postgres://`, `postgresql://` and `postgresql+psycopg2://` URLs to `postgresql+asyncpg://`,
    and on asyncpg URLs turns `sslmode=X` into `ssl=X` and drops `channel_binding`.

    **Why.** create_async_engine reads the URL from these files (URL-WHERE) and fails on a sync driver at
    startup (URL-PLAIN, URL-POSTGRES, URL-PSYCOPG2) or on libpq parameters at the first connection
    (URL-NEON-SSL); in alembic.ini a bare `%` stops alembic (URL-ALEMBIC-PCT).

    **Example** (.env)::

        export DATABASE_URL="postgresql://owner:npg_x@ep-1.neon.tech/neondb?sslmode=require&channel_binding=require"

    **Use instead**::

        export DATABASE_URL="postgresql+asyncpg://owner:npg_x@ep-1.neon.tech/neondb?ssl=require"

    alembic.ini: `sqlalchemy.url = postgresql://u:p%40ss@db/app` becomes
    `sqlalchemy.url = postgresql+asyncpg://u:p%%40ss@db/app`. Compose: `- DATABASE_URL=postgres://u:p@db/app`
    becomes `- DATABASE_URL=postgresql+asyncpg://u:p@db/app`, and `DATABASE_URL: postgres://...` likewise.

    **Fix safety.** Line by line: everything but the URL (comments, quotes, `export`, CRLF, a missing final
    newline) stays byte-identical; keys named for a sync consumer (`SYNC_DATABASE_URL`), commented lines and
    services that only pull a third-party `image:` are left alone; `postgresql+psycopg://` (URL-PSYCOPG3) too.
    """

    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = RULE_NAME
    DEFECTS: ClassVar[tuple[str, ...]] = (
        "URL-PLAIN",
        "URL-POSTGRES",
        "URL-PSYCOPG2",
        "URL-NEON-SSL",
        "URL-WHERE",
        "URL-ALEMBIC-PCT",
    )

    def applies_to(self, path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        return (
            name == ".env" or name.startswith(".env.") or name == "alembic.ini" or bool(COMPOSE_NAME.fullmatch(name))
        )

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        if not facts.async_db:
            return text, []
        name = path.rsplit("/", 1)[-1]
        if name == "alembic.ini" and facts.alembic_ini_url_unused:
            return text, []  # env.py sets the URL itself: this value is never read
        if name == "alembic.ini":
            rewrite: Callable[[list[str]], list[list[tuple[str, str]] | None]] = self._alembic
        elif COMPOSE_NAME.fullmatch(name):
            rewrite = self._compose
        else:
            rewrite = self._dotenv

        # Split on "\n" only: a "\r" stays at the end of its line and outside every edited span.
        lines = text.split("\n")
        bodies = [line[:-1] if line.endswith("\r") else line for line in lines]
        originals = list(bodies)
        per_line = rewrite(bodies)

        findings: list[Finding] = []
        for number, (old, new, changes) in enumerate(zip(originals, bodies, per_line, strict=True), start=1):
            if new == old:
                continue
            key = ENV_KEY.match(old)
            if key and changes and facts.leave_url_alone([key[1]], changes[0][0], changes[0][1]):
                continue  # the project's own code decides what this key's URL must look like
            lines[number - 1] = new + lines[number - 1][len(old) :]
            defects = _url_defects(changes or [])
            if name == "alembic.ini" and _bare_percent(old):
                defects.append("URL-ALEMBIC-PCT")
            findings.append(
                _finding(defects=defects, where=f"{path} line {number}", old_code=old, new_code=new, line=number)
            )
        if not findings:
            return text, []
        return "\n".join(lines), findings

    # Each rewriter edits `lines` in place and returns, per line, the URL rewrites made (None: untouched).

    @staticmethod
    def _dotenv(lines: list[str]) -> list[list[tuple[str, str]] | None]:
        result: list[list[tuple[str, str]] | None] = []
        for number, line in enumerate(lines):
            match = _ENV_ASSIGN.match(line)
            if match is None or _SYNC_NAME.search(match["key"]):
                result.append(None)
                continue
            changes: list[tuple[str, str]] = []
            lines[number] = _rewrite_value(line, _value_span(line, match.end()), changes)
            result.append(changes)
        return result

    @staticmethod
    def _alembic(lines: list[str]) -> list[list[tuple[str, str]] | None]:
        result: list[list[tuple[str, str]] | None] = []
        for number, line in enumerate(lines):
            match = _ALEMBIC_URL.fullmatch(line)
            if match is None:
                result.append(None)
                continue
            changes: list[tuple[str, str]] = []
            value = match["value"]
            # Record the URL rewrite on the unescaped value, then write the escaped result.
            _rewrite_urls(_ALEMBIC_PCT.sub(lambda m: "%" if m[0] in ("%", "%%") else m[0], value), changes)
            lines[number] = line[: match.start("value")] + _alembic_value(value) + line[match.end("value") :]
            result.append(changes)
        return result

    @staticmethod
    def _compose(lines: list[str]) -> list[list[tuple[str, str]] | None]:
        from fixer.discover.compose import NotYaml, environment_lines

        result: list[list[tuple[str, str]] | None] = [None] * len(lines)
        try:
            wanted = environment_lines("\n".join(lines))
        except NotYaml:
            return result  # compose cannot read it either: nothing to fix in it
        for number in sorted(wanted):
            line = lines[number]
            match = _COMPOSE_LIST.match(line)
            if match is not None:
                span = _value_span(line, match.end(), match["q"])
            else:
                match = _COMPOSE_MAP.match(line)
                if match is None:
                    continue
                span = _value_span(line, match.end())
            if _SYNC_NAME.search(match["key"]):
                continue
            changes: list[tuple[str, str]] = []
            lines[number] = _rewrite_value(line, span, changes)
            result[number] = changes
        return result


def _bare_percent(line: str) -> bool:
    """Whether an alembic.ini line holds a `%` configparser cannot interpolate."""
    return any(m[0] == "%" for m in _ALEMBIC_PCT.finditer(line))


# --------------------------------------------------------------------------------------------------
# Python literals

_STRING_TYPES = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
# Calls whose URL goes to a synchronous engine or straight to a driver that wants libpq's form.
_SYNC_CALLS = frozenset({"create_engine", "engine_from_config", "connect", "create_pool"})


def last_name(func: cst.BaseExpression) -> str | None:
    """`create_engine` of `create_engine` or `sqlalchemy.create_engine`; `URL` of `settings.URL`."""
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def _target_names(node: cst.BaseExpression) -> list[str]:
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, cst.Attribute):
        return [node.attr.value]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [name for element in node.elements for name in _target_names(element.value)]
    return []


def _string_leaves(node: cst.BaseExpression) -> list[cst.SimpleString | cst.FormattedString] | None:
    """The literal parts of a (possibly implicitly concatenated) string, or None for bytes."""
    if isinstance(node, cst.ConcatenatedString):
        left, right = _string_leaves(node.left), _string_leaves(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, (cst.SimpleString, cst.FormattedString)):
        return None if "b" in node.prefix.lower() else [node]
    return None


def _rewrite_string(node: cst.BaseExpression) -> tuple[cst.BaseExpression, list[tuple[str, str]]] | None:
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
            flat.append(f"{_OPEN}{len(expressions) - 1}{_CLOSE}")
        if isinstance(leaf, cst.SimpleString):
            body = leaf.value[len(leaf.prefix) + len(leaf.quote) : -len(leaf.quote)]
            flat.append(body)
            continue
        for part in leaf.parts:
            if isinstance(part, cst.FormattedStringText):
                flat.append(part.value)
            else:
                expressions.append(part)
                flat.append(f"{_OPEN}{len(expressions) - 1}{_CLOSE}")
    text = "".join(flat)
    if text.count(_OPEN) != len(expressions) or text.count(_CLOSE) != len(expressions):
        return None  # the literal itself holds a sentinel character
    new = to_async_url(text)
    if new is None:
        return None
    survivors = [int(m[1]) for m in _SENTINEL.finditer(new)]
    if survivors != sorted(set(survivors)) or not set(seams) <= set(survivors):
        return None

    # Cut the new text back into leaves at the seams, and each f-string leaf into parts.
    pieces = re.split(f"{_OPEN}(?:{'|'.join(map(str, seams))}){_CLOSE}", new) if seams else [new]
    new_leaves: list[cst.BaseExpression] = []
    for leaf, piece in zip(leaves, pieces, strict=True):
        if isinstance(leaf, cst.SimpleString):
            quote, prefix = leaf.quote, leaf.value[: len(leaf.prefix)]  # .prefix is lower-cased
            new_leaves.append(leaf.with_changes(value=f"{prefix}{quote}{piece}{quote}"))
            continue
        parts: list[cst.BaseFormattedStringContent] = []
        for chunk in re.split(f"({_OPEN}\\d+{_CLOSE})", piece):
            sentinel = _SENTINEL.fullmatch(chunk)
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
    ...)`), names meant for a sync consumer (`SYNC_DATABASE_URL`), arguments of `create_engine`,
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
        # A test's URL literal is the input of the code under test (SHAPE-TEST-INPUT): never data to fix.
        role = self.facts.role((self.context.filename or "").replace("\\", "/"))
        return self.facts.async_db and not self._is_sync_user() and role is not Role.TEST

    def enters(self, statement: cst.BaseStatement) -> bool:
        return POSTGRES_STRING in words(statement)

    # Places whose strings are left alone: returning False skips the subtree.

    def visit_Expr(self, node: cst.Expr) -> bool:
        return not isinstance(node.value, _STRING_TYPES)  # docstrings and bare strings do not run

    def visit_Assign(self, node: cst.Assign) -> bool:
        names = [name for target in node.targets for name in _target_names(target.target)]
        self._read_as.append(names)
        return not any(_SYNC_NAME.search(name) for name in names)

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        self._read_as.pop()
        return updated_node

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        names = _target_names(node.target)
        self._read_as.append(names)
        return not any(_SYNC_NAME.search(name) for name in names)

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        self._read_as.pop()
        return updated_node

    def visit_Arg(self, node: cst.Arg) -> bool:
        return node.keyword is None or not _SYNC_NAME.search(node.keyword.value)

    def visit_Comparison(self, node: cst.Comparison) -> bool:
        return False  # `if url == "postgresql+psycopg2://..."` tests the input: rewriting it changes the test

    def visit_Call(self, node: cst.Call) -> bool:
        # os.getenv("DATABASE_URL", "postgresql://..."): the default is read as DATABASE_URL
        key = node.args[0].value if node.args and last_name(node.func) in ("getenv", "get") else None
        self._read_as.append([key.evaluated_value] if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str) else [])
        return last_name(node.func) not in _SYNC_CALLS

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
        rewritten = _rewrite_string(updated_node)
        if rewritten is None:
            return updated_node
        new_node, changes = rewritten
        names = [name for names in self._read_as for name in names]
        if self.facts.leave_url_alone(names, changes[0][0], changes[0][1]):
            return updated_node
        self.report(
            _finding(
                defects=_url_defects(changes),
                where="a Python string literal",
                old_code=self.code(original_node),
                new_code=self.code(new_node),
            )
        )
        return new_node


# --------------------------------------------------------------------------------------------------
# Run-time normalisation

NORMALISER_NAME = FIXER_NORMALISER

NORMALISER_SOURCE = '''\
def to_async_database_url(url: str) -> str:
    """Point a PostgreSQL URL at asyncpg, as hosting platforms inject it as postgresql://...?sslmode=...

    Added by fixer (FX004): asyncpg rejects sslmode and channel_binding, and str(url) would hide the password.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername == "postgresql+asyncpg":
        query = dict(parsed.query)
        sslmode = query.pop("sslmode", None)
        query.pop("channel_binding", None)
        if sslmode is not None:
            query.setdefault("ssl", sslmode)
        parsed = parsed.set(query=query)
    return parsed.render_as_string(hide_password=False)
'''

_MAKE_URL_MODULES = frozenset({"sqlalchemy", "sqlalchemy.engine", "sqlalchemy.engine.url"})


def _dotted(node: cst.BaseExpression | None) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def defined_names(module: cst.Module) -> tuple[set[str], bool]:
    """Top-level names the module binds (defs, classes, assignments, imports) and whether it imports make_url."""
    names: set[str] = set()
    has_make_url = False
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
            continue
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                names.update(n for t in small.targets for n in _target_names(t.target))
            elif isinstance(small, cst.AnnAssign):
                names.update(_target_names(small.target))
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.evaluated_alias or alias.evaluated_name
                    names.add(bound)
                    if (
                        bound == "make_url"
                        and alias.evaluated_name == "make_url"
                        and not small.relative
                        and _dotted(small.module) in _MAKE_URL_MODULES
                    ):
                        has_make_url = True
            elif isinstance(small, cst.Import):
                names.update((alias.evaluated_alias or alias.evaluated_name).split(".")[0] for alias in small.names)
    return names, has_make_url


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))
    )


def _has_header(module: cst.Module) -> bool:
    """A docstring or `__strict__` flag first, as AddImportsVisitor sees it (imports never go above it)."""
    if not module.body or not isinstance(module.body[0], cst.SimpleStatementLine):
        return False
    first = module.body[0].body
    if len(first) != 1:
        return False
    small = first[0]
    if isinstance(small, cst.Expr):
        return isinstance(small.value, cst.SimpleString)
    return (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and small.targets[0].target.value == "__strict__"
    )


def _calls(statement: cst.BaseStatement, name: str) -> bool:
    """Whether `statement` (anywhere inside) calls `name(...)`."""
    finder = _Call(name)
    scan(statement, finder)
    return finder.found


class _Call(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        self.found = self.found or (isinstance(node.func, cst.Name) and node.func.value == self.name)


def _imports_from(statements: Sequence[cst.BaseStatement], module: str) -> bool:
    """Whether one of these top-level lines is a `from MODULE import ...` (which AddImportsVisitor extends)."""
    return any(
        isinstance(small, cst.ImportFrom) and not small.relative and _dotted(small.module) == module
        for statement in statements
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
    )


@functools.lru_cache(maxsize=8)
def _helper_function(source: str, indent: str, newline: str) -> cst.BaseStatement:
    """`source` in the module's own indentation and line endings."""
    if indent != "    ":
        source = re.sub(r"^(?:    )+", lambda found: indent * (len(found[0]) // 4), source, flags=re.MULTILINE)
    source = source.replace("\n", newline)
    return cst.parse_statement(source, config=cst.PartialParserConfig(default_indent=indent, default_newline=newline))


def _blank_lines(count: int, lines: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """`lines` with its leading blank lines replaced by exactly `count` of them (comments kept)."""
    rest = list(lines)
    while rest and rest[0].comment is None:
        rest.pop(0)
    return [cst.EmptyLine()] * count + rest


class RuntimeUrlNormaliser(FixerCodemod):
    """The URL given to create_async_engine at run time must be normalised for asyncpg

    **What it does.** Where `create_async_engine(URL_EXPR, ...)` takes its URL (positional or `url=`) from
    anything but a literal, wraps it as `create_async_engine(to_async_database_url(URL_EXPR), ...)` and adds,
    once, after the module's imports, a small `to_async_database_url` function (SQLAlchemy's `make_url`) that
    switches `postgres://`, `postgresql://` and `postgresql+psycopg2://` to asyncpg, turns `sslmode` into `ssl`
    and drops `channel_binding`.

    **Why.** Neon, Heroku and Render inject `DATABASE_URL=postgresql://...?sslmode=require&channel_binding=require`
    into the process environment, and an OS variable beats `.env` in pydantic-settings (URL-WHERE), so fixed
    files are not enough: the deployed app would still fail at startup (URL-PLAIN, URL-POSTGRES,
    URL-PSYCOPG2) or at the first connection (URL-NEON-SSL). The function renders with
    `render_as_string(hide_password=False)`, since `str(url)` masks the password.

    **Example**::

        engine = create_async_engine(settings.DATABASE_URL, echo=False)

    **Use instead**::

        from sqlalchemy.engine import make_url


        def to_async_database_url(url: str) -> str:
            ...


        engine = create_async_engine(to_async_database_url(settings.DATABASE_URL), echo=False)

    **Fix safety.** Idempotent: nothing happens in a module that already binds `to_async_database_url`, or
    to an argument already wrapped. Literal URLs are `DatabaseUrlCodemod`'s; `create_engine` is left alone.
    """

    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = RULE_NAME
    DEFECTS: ClassVar[tuple[str, ...]] = ("URL-WHERE", "URL-PLAIN", "URL-POSTGRES", "URL-PSYCOPG2", "URL-NEON-SSL")
    # create_engine too: FX002 turns it into create_async_engine on the same parse, after this check.
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"\bcreate_(?:async_)?engine\b")

    def visit_Module(self, node: cst.Module) -> bool:
        from fixer.model import Role

        self._wrapped = False
        path = (self.context.filename or "").replace("\\", "/")
        # A test builds its engine on the URL it tests with (sqlite, a test server): no platform injects it.
        if not self.facts.async_db or self.facts.role(path) is Role.TEST:
            return False
        # The model's view of this module's async engines, in source order, as leave_Call meets them.
        self._sites = [e for e in sorted(self.facts.flow.engines, key=lambda e: e.line) if e.path == path and e.async_use]
        names, self._has_make_url = defined_names(node)
        # The function calls the module's global `make_url`: a module whose own `make_url` is something else
        # would break it, and a module that has the function already needs nothing.
        return NORMALISER_NAME not in names and ("make_url" not in names or self._has_make_url)

    def _judge(self, site) -> tuple[bool, str] | None:
        """(safe, evidence) for wrapping this engine's URL, or None when it must stay as it is."""
        source = site.url
        if site.sqlite:
            return None
        failure = predicted(self.facts, RULE_ID, site.path)
        if failure is not None:
            return True, cite(self.facts, failure)
        if self.facts.normalised_by_project(site):
            # SHAPE-OWN-NORMALISER: the project's own code, run on the platform URL, decides; never trusted unrun.
            prediction = self.facts.startup.primary
            reached = [u for p, line, u in (prediction.engine_urls if prediction else ()) if (p, line) == (site.path, site.line)]
            error = async_engine_error(self.facts, reached[0]) if reached else None
            if error is None:
                return None
            return True, f"the project's own URL code gives this engine {reached[0].split('://')[0]}://...: {error}"
        if platform_sets(source.names) and self.facts.role(site.path) is Role.LIVE:
            # The platform's URL is what reaches it in production: the fix is safe where that URL fails, and
            # not needed where the engine takes it (psycopg 3 on SQLAlchemy 2.1 speaks libpq's parameters).
            url = platform_url_at(self.facts, site)
            error = async_engine_error(self.facts, url)
            if error is None:
                return None
            return True, f"the platform URL {PLATFORM_URL} reaches this engine as {url.split('://')[0]}://... : {error}"
        shipped = self.facts.shipped_for(source.names)
        schemes = [s.scheme for s in shipped] + ([source.scheme] if source.scheme else [])
        if schemes and all(scheme.startswith("sqlite") for scheme in schemes):
            return None
        failing = self.facts.failing_inputs(source.names)
        if "str.replace" in source.through:
            # SHAPE-OWN-REPLACE: the project rewrites the URL itself; the URLs it shows are run through those
            # rewrites, and only one they leave failing (`.replace("postgresql+", ...)` on a `postgresql://`
            # with sslmode) calls for the normaliser.
            samples = [f"{s.scheme}://u@h/db" + ("?sslmode=require" if s.libpq_params else "") for s in failing]
            if not samples or self.facts.rewrites_handle(site, samples):
                return None
        if failing:
            return True, "the project shows this input: " + "; ".join(
                f"{s.path}:{s.line} {s.key}={s.scheme}://...{'?sslmode=...' if s.libpq_params else ''}" for s in failing
            )
        if schemes:
            # Every URL the project ships for this engine is already async: nothing fails on what it shows, and
            # only a platform's `postgresql://...?sslmode=` would. Protection, not a fix: unsafe.
            return False, "every URL the project shows for this engine is async; a platform may inject postgresql://...?sslmode="
        return False, "no URL for this engine is shown in the project; a platform may inject postgresql://...?sslmode="

    def enters(self, statement: cst.BaseStatement) -> bool:
        return "create_async_engine" in words(statement)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if last_name(updated_node.func) != "create_async_engine":
            return updated_node
        site = self._sites.pop(0) if self._sites else None
        args = list(updated_node.args)
        index = next((i for i, arg in enumerate(args) if arg.keyword is not None and arg.keyword.value == "url"), None)
        if index is None and args and args[0].keyword is None and not args[0].star:
            index = 0
        if index is None:
            return updated_node
        value = args[index].value
        if isinstance(value, _STRING_TYPES):
            return updated_node  # a literal is rewritten in place by DatabaseUrlCodemod
        if isinstance(value, cst.Call) and last_name(value.func) == NORMALISER_NAME:
            return updated_node
        safe, evidence = (True, "") if site is None else (self._judge(site) or (None, ""))
        if safe is None:
            return updated_node
        args[index] = args[index].with_changes(
            value=cst.Call(func=cst.Name(NORMALISER_NAME), args=[cst.Arg(value=value)])
        )
        new_node = updated_node.with_changes(args=args)
        made = safe or self.facts.unsafe_fixes
        self._wrapped = self._wrapped or made
        self.report(
            Finding(
                rule=RULE_ID,
                category=Category.CONFIG,
                # Unsafe: protection for an input the project does not show, on code that may well work.
                severity=Severity.CRITICAL if safe else Severity.MEDIUM,
                problem=(
                    "create_async_engine takes its URL from the environment or settings, where hosting platforms "
                    "put `postgresql://...?sslmode=require&channel_binding=require`."
                ),
                root_cause=(
                    "An OS environment variable beats `.env` in pydantic-settings, so fixing the files does not fix "
                    "the deployed URL. " + _ROOT_CAUSES["URL-PLAIN"] + " " + _ROOT_CAUSES["URL-NEON-SSL"]
                ),
                old_code=self.code(original_node),
                new_code=self.code(new_node),
                explanation=(
                    "The URL now passes through `to_async_database_url`, added to this module: it switches the "
                    "driver to asyncpg, turns `sslmode` into `ssl`, drops `channel_binding`, and renders the URL "
                    "with its password (`str(url)` would mask it as `***`)."
                ),
                defects=self.DEFECTS,
                fixed=made,
                safe=safe,
                evidence=evidence,
            )
        )
        return new_node if made else updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._wrapped:
            return updated_node
        return insert_helper(self.context, updated_node, NORMALISER_NAME, NORMALISER_SOURCE, self._has_make_url)


def insert_helper(
    context: CodemodContext, updated_node: cst.Module, name: str, source: str, has_make_url: bool
) -> cst.Module:
    """The module with the function `source` (named `name`, built on SQLAlchemy's make_url) added once, where its
    first caller can see it, and make_url imported."""
    body = list(updated_node.body)
    # After the leading import block, where AddImportsVisitor puts make_url's import. A module that imports
    # again further down (after `load_dotenv()`, typically) gets it after its last import before the first
    # statement that calls the function: never between two imports, never after the engine is built.
    leading_end = 1 if _has_header(updated_node) else 0
    while leading_end < len(body) and _is_import_line(body[leading_end]):
        leading_end += 1
    first_use = next((i for i, statement in enumerate(body) if _calls(statement, name)), len(body))
    position = leading_end
    for index in range(leading_end, first_use):
        if _is_import_line(body[index]):
            position = index + 1
    import_line: cst.SimpleStatementLine | None = None
    if not has_make_url:
        if position > leading_end and not _imports_from(body[:position], "sqlalchemy.engine"):
            # AddImportsVisitor would put it in the leading block, far from the function: put it just above.
            import_line = cst.SimpleStatementLine(
                body=[
                    cst.ImportFrom(
                        module=cst.parse_expression("sqlalchemy.engine"),
                        names=[cst.ImportAlias(name=cst.Name("make_url"))],
                    )
                ]
            )
        else:
            AddImportsVisitor.add_needed_import(context, "sqlalchemy.engine", "make_url")
    function = _helper_function(source, updated_node.default_indent, updated_node.default_newline)

    before = 2 if position > 0 or not has_make_url else 0
    function = function.with_changes(leading_lines=_blank_lines(before, ()))
    if position < len(body):
        following = body[position]
        body[position] = following.with_changes(leading_lines=_blank_lines(2, following.leading_lines))
    body.insert(position, function)
    if import_line is not None:
        body.insert(position, import_line)
    return updated_node.with_changes(body=body)
