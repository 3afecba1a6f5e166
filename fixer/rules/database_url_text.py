"""FX004 in the files that are not Python: `.env` and `.env.*` lines, alembic.ini's `sqlalchemy.url` (with `%%`
for a `%`) and the `environment:` of compose services, each URL rewritten in place, byte for byte around it.
The rule's page is fixer.rules.database_url's."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from fixer.model import ProjectModel
from fixer.model.urls import to_async_url
from fixer.rules.base import TextRule
from fixer.rules.database_url import CLOSE, OPEN, RULE_ID, RULE_NAME, SENTINEL, SYNC_NAME, url_defects, url_finding
from fixer.rules.findings import Finding

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


def _rewrite_urls(text: str, changes: list[tuple[str, str]], driver: str) -> str:
    """Rewrite every URL token of `text` with `to_async_url`, recording (old, new) pairs in `changes`."""

    def sub(match: re.Match[str]) -> str:
        new = to_async_url(match[0], driver)
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


def _rewrite_value(line: str, span: tuple[int, int], changes: list[tuple[str, str]], driver: str) -> str:
    begin, end = span
    return line[:begin] + _rewrite_urls(line[begin:end], changes, driver) + line[end:]


def _alembic_value(value: str, driver: str) -> str:
    """The sqlalchemy.url value with the URL rewritten and every literal `%` escaped as `%%`."""
    keep: list[str] = []

    def decode(match: re.Match[str]) -> str:
        if match[0] in ("%", "%%"):
            return "%"
        keep.append(match[0])  # %(here)s and friends stay interpolations
        return f"{OPEN}{len(keep) - 1}{CLOSE}"

    if OPEN in value or CLOSE in value:
        return value
    plain = _ALEMBIC_PCT.sub(decode, value)
    plain = _rewrite_urls(plain, [], driver)
    return SENTINEL.sub(lambda m: keep[int(m[1])], plain.replace("%", "%%"))


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
            rewrite: Callable[[list[str], str], list[list[tuple[str, str]] | None]] = self._alembic
        elif COMPOSE_NAME.fullmatch(name):
            rewrite = self._compose
        else:
            rewrite = self._dotenv
        driver = facts.async_driver()

        # Split on "\n" only: a "\r" stays at the end of its line and outside every edited span.
        lines = text.split("\n")
        bodies = [line[:-1] if line.endswith("\r") else line for line in lines]
        originals = list(bodies)
        per_line = rewrite(bodies, driver)

        findings: list[Finding] = []
        for number, (old, new, changes) in enumerate(zip(originals, bodies, per_line, strict=True), start=1):
            if new == old:
                continue
            key = ENV_KEY.match(old)
            if key and changes and facts.leave_url_alone([key[1]], changes[0][0], changes[0][1]):
                continue  # the project's own code decides what this key's URL must look like
            lines[number - 1] = new + lines[number - 1][len(old) :]
            defects = url_defects(changes or [])
            if name == "alembic.ini" and _bare_percent(old):
                defects.append("URL-ALEMBIC-PCT")
            findings.append(
                url_finding(defects=defects, where=f"{path} line {number}", old_code=old, new_code=new, line=number,
                            driver=driver)
            )
        if not findings:
            return text, []
        return "\n".join(lines), findings

    # Each rewriter edits `lines` in place and returns, per line, the URL rewrites made (None: untouched).

    @staticmethod
    def _dotenv(lines: list[str], driver: str) -> list[list[tuple[str, str]] | None]:
        result: list[list[tuple[str, str]] | None] = []
        for number, line in enumerate(lines):
            match = _ENV_ASSIGN.match(line)
            if match is None or SYNC_NAME.search(match["key"]):
                result.append(None)
                continue
            changes: list[tuple[str, str]] = []
            lines[number] = _rewrite_value(line, _value_span(line, match.end()), changes, driver)
            result.append(changes)
        return result

    @staticmethod
    def _alembic(lines: list[str], driver: str) -> list[list[tuple[str, str]] | None]:
        result: list[list[tuple[str, str]] | None] = []
        for number, line in enumerate(lines):
            match = _ALEMBIC_URL.fullmatch(line)
            if match is None:
                result.append(None)
                continue
            changes: list[tuple[str, str]] = []
            value = match["value"]
            # Record the URL rewrite on the unescaped value, then write the escaped result.
            _rewrite_urls(_ALEMBIC_PCT.sub(lambda m: "%" if m[0] in ("%", "%%") else m[0], value), changes, driver)
            lines[number] = line[: match.start("value")] + _alembic_value(value, driver) + line[match.end("value") :]
            result.append(changes)
        return result

    @staticmethod
    def _compose(lines: list[str], driver: str) -> list[list[tuple[str, str]] | None]:
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
            if SYNC_NAME.search(match["key"]):
                continue
            changes: list[tuple[str, str]] = []
            lines[number] = _rewrite_value(line, span, changes, driver)
            result[number] = changes
        return result


def _bare_percent(line: str) -> bool:
    """Whether an alembic.ini line holds a `%` configparser cannot interpolate."""
    return any(m[0] == "%" for m in _ALEMBIC_PCT.finditer(line))
