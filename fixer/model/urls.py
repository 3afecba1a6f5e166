"""Database URL helpers shared by the FX004 rule and the report: pure string functions, no SQLAlchemy.

Both work on the text as written: a password and its percent-encoding are kept byte-for-byte, because
a round trip through a URL object re-encodes it (and `str(url)` even masks it as `***`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["ASYNC_SCHEME", "SYNC_SCHEMES", "async_driver", "holds_secret", "redact", "to_async_url"]

ASYNC_SCHEME = "postgresql+asyncpg://"
# Schemes create_async_engine cannot use with PostgreSQL (URL-PLAIN, URL-POSTGRES, URL-PSYCOPG2).
SYNC_SCHEMES = ("postgres://", "postgresql://", "postgresql+psycopg2://")

_SYNC_SCHEME = re.compile(r"(?:postgres|postgresql|postgresql\+psycopg2)://")
# userinfo as SQLAlchemy's make_url reads it: user up to ':' or '/', password up to the first '@'.
_USERINFO = re.compile(r"[^:/]*(?::[^@]*)?@")


def _split_query(url: str) -> tuple[str, str | None, str]:
    """Split `url` into (everything before '?', the query or None, a '#fragment' or '')."""
    scheme_end = url.index("://") + 3
    userinfo = _USERINFO.match(url, scheme_end)
    start = userinfo.end() if userinfo else scheme_end
    mark = url.find("?", start)
    if mark < 0:
        return url, None, ""
    query, hash_, fragment = url[mark + 1 :].partition("#")
    return url[:mark], query, hash_ + fragment


def _asyncpg_query(query: str) -> str:
    """`sslmode=X` becomes `ssl=X` (unless `ssl` is already set), `channel_binding` goes; the rest stays in order."""
    params = query.split("&") if query else []
    names = [param.partition("=")[0] for param in params]
    kept: list[str] = []
    for param, name in zip(params, names, strict=True):
        if name == "channel_binding":
            continue
        if name == "sslmode":
            if "ssl" in names:
                continue
            param = "ssl" + param[len("sslmode") :]
        kept.append(param)
    return "&".join(kept)


def async_driver(installs: Callable[[str], bool]) -> str:
    """The async driver the URLs fixer writes name, by what the install gives (`installs(distribution)`):
    psycopg (3) where it installs and asyncpg does not (the smallest change: no new dependency, and it reads
    libpq's `sslmode` and `channel_binding` as they are), else asyncpg."""
    return "psycopg" if installs("psycopg") and not installs("asyncpg") else "asyncpg"


def to_async_url(url: str, driver: str = "asyncpg") -> str | None:
    """The async form of a PostgreSQL URL for `driver` ("asyncpg" or "psycopg"), or None when there is nothing
    to change.

    `postgres://`, `postgresql://` and `postgresql+psycopg2://` become `postgresql+asyncpg://` (or
    `postgresql+psycopg://`, whose query stays as written); on an asyncpg URL the query's `sslmode=X` becomes
    `ssl=X` and `channel_binding` is dropped (asyncpg rejects both). Everything else (password,
    percent-encoding, other parameters and their order) is kept as written. `postgresql+psycopg://` (psycopg 3
    is async), sqlite, mysql and a bare scheme with nothing after it are left alone.

    >>> to_async_url("postgres://u:p%40ss@h/db?sslmode=require&channel_binding=require&x=1")
    'postgresql+asyncpg://u:p%40ss@h/db?ssl=require&x=1'
    >>> to_async_url("postgresql://u:p@h/db?sslmode=require", "psycopg")
    'postgresql+psycopg://u:p@h/db?sslmode=require'
    """
    match = _SYNC_SCHEME.match(url)
    scheme = f"postgresql+{driver}://"
    new = scheme + url[match.end() :] if match else url
    if new.startswith(ASYNC_SCHEME) and len(new) > len(ASYNC_SCHEME):
        base, query, fragment = _split_query(new)
        if query is not None:
            query = _asyncpg_query(query)
            new = base + ("?" + query if query else "") + fragment
    elif not match or len(new) == len(scheme):
        return None
    return None if new == url else new


def to_psycopg2_url(url: str) -> str | None:
    """`postgres://` and `postgresql://` naming psycopg2, as the sync normaliser fixer writes (FX005) does; None
    when there is nothing to change.

    >>> to_psycopg2_url("postgresql://u:p@h/db?sslmode=require")
    'postgresql+psycopg2://u:p@h/db?sslmode=require'
    """
    match = re.match(r"(?:postgres|postgresql)://", url)
    return "postgresql+psycopg2://" + url[match.end():] if match else None


# The URL normalisers fixer writes into a project (FX004, FX005), by the name it gives them, with what each does
# to a URL: the startup walk runs a URL through them as the project will.
WRITTEN_NORMALISERS = {"to_async_database_url": to_async_url, "to_psycopg2_database_url": to_psycopg2_url}


# Every form a password takes in a backend's files; each pattern's `password` group is what gets masked.
_SECRETS = (
    # scheme://user:password@ ; the user may be empty (redis://:secret@host).
    re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s\"'<>]*:(?P<password>[^@\s\"'<>]*)(?=@)"),
    # A URL's query: ?user=u&password=secret, sslpassword (the client key's passphrase) too.
    re.compile(r"[?&](?:ssl)?password=(?P<password>[^&#\s\"'<>]*)", re.IGNORECASE),
    # A libpq DSN, "host=db user=u password=secret": the keyword opens a string or follows another
    # keyword=value with only blanks between (Python keyword arguments are separated by commas).
    re.compile(
        r"""(?:^|(?<=["'])|(?<=\w=)[^\s,;'"()\[\]{}]+\s+)(?:ssl)?password\s*=\s*"""
        r"""(?P<quote>')?(?P<password>(?(quote)(?:[^'\\]|\\.)*|[^\s'"]+))""",
        re.IGNORECASE | re.MULTILINE,
    ),
    # PGPASSWORD=secret, POSTGRES_PASSWORD: secret (.env, shell, compose): environment names are upper case,
    # and a Python annotation (`POSTGRES_PASSWORD: str`) is no value.
    re.compile(r"(?<![\w$])[A-Z0-9_]*PASSWORD(?:=|:[ \t]+)(?!(?:str|SecretStr|bytes|Optional|Any)\b)(?P<password>[^\s'\"#]+)"),
    # A string literal given to a password key: {"password": "secret"}, password="secret",
    # db_password: str = "secret", POSTGRES_PASSWORD: "secret". Code (password=pw) is no secret.
    re.compile(
        r"""\b\w*pass(?:word|wd)\w*["']?[ \t]*(?::[ \t]*[\w\[\]., ]+?[ \t]*)?[=:][ \t]*"""
        r"""(?P<q>["'])(?P<password>(?:(?!(?P=q))[^\\\n]|\\.)*)(?P=q)""",
        re.IGNORECASE,
    ),
)
# Placeholders are not secrets: ${VAR}, $VAR, {expr} (an f-string), %(name)s (configparser), or already masked.
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\$\w+|\{[^}]*\}|%\([^)]*\)s|\*+")


def redact(text: str) -> str:
    """Replace every password inside `text` by `***`, for reports and the console: in a URL's user info or
    query, a libpq DSN, an environment line (PGPASSWORD=...) or a literal given to a password key.

    >>> redact('DATABASE_URL="postgresql://app:s3cr%40t@db/app"')
    'DATABASE_URL="postgresql://app:***@db/app"'
    >>> redact("postgresql://db/app?user=u&password=s3cret")
    'postgresql://db/app?user=u&password=***'
    """

    def mask(match: re.Match[str]) -> str:
        password = match["password"]
        if not password or _PLACEHOLDER.fullmatch(password):
            return match[0]
        start, end = match.span("password")
        return match[0][: start - match.start()] + "***" + match[0][end - match.start() :]

    for pattern in _SECRETS:
        text = pattern.sub(mask, text)
    return text


def passwords_in(text: str) -> list[str]:
    """The passwords `redact` would mask in `text`, as they are written there."""
    return [
        match["password"]
        for pattern in _SECRETS
        for match in pattern.finditer(text)
        if match["password"] and not _PLACEHOLDER.fullmatch(match["password"])
    ]


def holds_secret(text: str) -> bool:
    """Whether `text` shows a password that `redact` would mask."""
    return redact(text) != text
