#!/usr/bin/env python3
"""Regenerate fixer's version tables (fixer/data/*.json) from the real packages.

    python tools/gen_tables.py                 # everything
    python tools/gen_tables.py --only releases,wheels,requires,exports,modules
    python tools/gen_tables.py --jobs 3 --python python3.12

What it records (see tools/README.md):

* releases.json: every release of a few distributions, in upload order, with upload day, Requires-Python and
  the yanked flag (read from the package index's JSON listing through pip's own HTTP session).
* wheels.json: for compiled dependencies, per release, the CPython versions (3.8 to 3.14) that have a
  manylinux x86_64 wheel (cpXY, abi3 or py3-none-any), and whether an sdist exists.
* requires.json: Requires-Dist of every release of the distributions whose caps matter (read from each
  wheel's METADATA, cached under ~/.cache/fixer-gen-tables), plus the versions installed for exports.
* exports.json: for chosen versions of sqlalchemy, sqlmodel, pydantic, pydantic-settings, fastapi and
  starlette, installed into throwaway virtualenvs (uv), the names `from MODULE import NAME` succeeds for:
  dir() after import, submodules, and names a module-level __getattr__ answers; names whose lookup raises
  another error than AttributeError (pydantic 2's BaseSettings) are recorded as "moved" with the message.
* modules.json: import name -> distributions that provide it, from the wheels' RECORD of common FastAPI
  backend dependencies.
* keywords.json: the keyword parameters of functions an app calls as it loads (sqlmodel's Field), per release.
* messages.json: texts in a package's source that fixer repeats or keys on (pydantic's email-validator message,
  SQLAlchemy's default PostgreSQL DBAPI, ...), per release, read from each wheel.
* loaders.json: modules that import, as they load, a distribution their package requires only through an extra.

Everything the tables cover (distributions, versions, modules) is configured in the constants below.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as _dt
import email.parser
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from packaging.tags import Tag
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "fixer" / "data"
CACHE = Path(os.environ.get("FIXER_GEN_CACHE", Path.home() / ".cache" / "fixer-gen-tables"))

# --------------------------------------------------------------------------------------------------------------
# What is recorded
# --------------------------------------------------------------------------------------------------------------

# Exports: distribution -> (modules to record, extra packages installed beside it so optional imports work).
EXPORT_MODULES: dict[str, list[str]] = {
    "sqlalchemy": [
        "sqlalchemy", "sqlalchemy.orm", "sqlalchemy.engine", "sqlalchemy.ext.asyncio",
        "sqlalchemy.ext.asyncio.session", "sqlalchemy.ext.asyncio.engine", "sqlalchemy.ext.declarative",
        "sqlalchemy.future", "sqlalchemy.pool", "sqlalchemy.exc", "sqlalchemy.sql", "sqlalchemy.types",
        "sqlalchemy.dialects.postgresql",
    ],
    "sqlmodel": [
        "sqlmodel", "sqlmodel.ext.asyncio.session", "sqlmodel.main", "sqlmodel.orm.session",
        "sqlmodel.sql.expression", "sqlmodel.sql.sqltypes", "sqlmodel.engine.create",
    ],
    "pydantic": [
        "pydantic", "pydantic.fields", "pydantic.types", "pydantic.networks", "pydantic.main", "pydantic.config",
        "pydantic.class_validators", "pydantic.functional_validators", "pydantic.dataclasses", "pydantic.v1",
        "pydantic.env_settings",
    ],
    "pydantic-settings": ["pydantic_settings", "pydantic_settings.sources"],
    "fastapi": [
        "fastapi", "fastapi.security", "fastapi.responses", "fastapi.middleware.cors", "fastapi.encoders",
        "fastapi.exceptions", "fastapi.testclient", "fastapi.staticfiles", "fastapi.templating",
        "fastapi.concurrency", "fastapi.routing", "fastapi.params", "fastapi.requests", "fastapi.background",
    ],
    # A dependency beside the app whose major release removed what backends import (FastMCP in mcp 2).
    "mcp": ["mcp", "mcp.server", "mcp.server.fastmcp", "mcp.server.lowlevel", "mcp.types", "mcp.client.session"],
    "starlette": [
        "starlette", "starlette.applications", "starlette.config", "starlette.middleware",
        "starlette.middleware.cors", "starlette.middleware.base", "starlette.requests", "starlette.responses",
        "starlette.routing", "starlette.status", "starlette.exceptions", "starlette.testclient",
        "starlette.concurrency", "starlette.background",
    ],
}
EXPORT_INSTALL: dict[str, str] = {  # how the target itself is asked for ({v} = version)
    "sqlalchemy": "sqlalchemy[asyncio]=={v}",
}
EXPORT_EXTRAS: dict[str, list[str]] = {  # installed beside the target (newest the resolver allows)
    "fastapi": ["httpx", "requests", "python-multipart", "email-validator", "jinja2", "aiofiles"],
    "starlette": ["httpx", "requests", "python-multipart", "jinja2", "itsdangerous", "aiofiles"],
    "pydantic": ["email-validator"],
    "sqlmodel": ["greenlet"],
}

# Which versions get an export record. Each entry is a version, "last:X.Y" (the newest final release whose
# release segment starts with X.Y), "first:X.Y", "latest", or "each-minor-since:X.Y" (the newest of each
# X.Y series from X.Y on).
EXPORT_VERSIONS: dict[str, list[str]] = {
    "sqlalchemy": ["last:1.3", "first:1.4", "1.4.17", "1.4.41", "last:1.4", "2.0.0", "last:2.0", "first:2.1",
                   "latest"],
    "sqlmodel": ["0.0.4", "0.0.6", "0.0.8", "0.0.11", "0.0.14", "0.0.16", "0.0.18", "0.0.22", "0.0.24", "0.0.45", "0.0.47",
                 "0.0.48", "latest"],
    "pydantic": ["first:1.8", "last:1.8", "last:1.9", "first:1.10", "last:1.10", "2.0", "each-minor-since:2.0", "latest"],
    "pydantic-settings": ["2.0.0", "each-minor-since:2.0", "latest"],
    "fastapi": ["last:0.54", "last:0.61", "0.68.2", "last:0.95", "last:0.99", "0.100.0", "last:0.104", "last:0.110", "last:0.115",
                "last:0.120", "last:0.130", "last:0.140", "last:0.150", "last:0.160", "latest"],
    "mcp": ["first:1", "last:1", "first:2", "latest"],
    "starlette": ["last:0.14", "last:0.27", "last:0.37", "last:0.41", "last:0.46", "last:0.52", "1.0.0",
                  "latest"],
}

# Requires-Dist of every final release (since a floor) of the distributions whose caps rules read.
REQUIRES_ALL: dict[str, str] = {
    "sqlmodel": "0.0.1",
    "fastapi": "0.50.0",
    "pydantic-settings": "2.0.0",
    "pydantic": "1.8.0",
    "passlib": "1.7.0",  # its `bcrypt` extra: whether bcrypt installs (FX024)
    "uvicorn": "0.11.0",  # what uvicorn[standard] pulls in (FX023: an import it provides is not missing; uvloop: the
    # loop an old uvicorn asks for)
    # what these bring is otherwise unknown, and an unknown distribution makes a missing module uncertain
    "alembic": "1.7.0",
    "fastapi-users": "10.0.0",
    "fastapi-users-db-sqlmodel": "0.1.0",
    "openai-agents": "0.1.0",
    # Google's SDKs: google-api-core brings requests, which a project beside google-generativeai imports
    "google-generativeai": "0.3.0",
    "google-api-core": "2.0.0",
}

# The keyword parameters of functions the app calls as it loads (a table model's `Field(...)` runs at import), per
# release since a floor: distribution -> (floor, module file in the wheel, the modules that export the names, names).
KEYWORD_FUNCTIONS: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "sqlmodel": ("0.0.8", "sqlmodel/main.py", ("sqlmodel", "sqlmodel.main"), ("Field", "Relationship")),
}

# Texts in a package's source that fixer repeats or keys on, per release since a floor, read from each release's
# wheel (nothing is installed or run): distribution -> (floor, {key: (file in the wheel, what to find)}); a file
# "a.py|b.py" is the first of them the wheel holds (code that moved between modules). What to
# find is a piece of a string constant (the first constant of the file that holds it is recorded, read with `ast`)
# or, after "re:", a regular expression over the file's text (its first group is recorded); else its absence.
MESSAGE_TEXTS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "pydantic": ("1.8.0", {
        # what `EmailStr` raises without email-validator (2.12 quotes the extra)
        "email-validator": ("pydantic/networks.py", "email-validator is not installed"),
        # 2.10.0's FieldInfo.get_default(call_default_factory=True) without validated_data (FX049)
        "default-factory-validated-data": ("pydantic/fields.py", "'validated_data' must be provided"),
        # where the message of a name moved out of pydantic 2 sends the reader (its docs moved in 2.14)
        "migration-docs": ("pydantic/_migration.py", r"re:See (https://\S+?)\{(?:version_short\(\)|VERSION)\}/migration/"),
    }),
    "pydantic-settings": ("2.0.0", {
        # the module SettingsError is defined in, as a traceback names it (pydantic_settings.exceptions from 2.9)
        "settings-error-in-exceptions": ("pydantic_settings/exceptions.py", r"re:(?m)^class (SettingsError)\b"),
    }),
    "starlette": ("0.13.0", {
        # Config(env_file) raises when the file is not there (other releases skip it, or warn)
        "config-file-missing-raises": ("starlette/config.py", r"""re:(raise FileNotFoundError)\(f?["']Config file"""),
    }),
    "sqlalchemy": ("2.0.0b1", {
        # create_engine's ArgumentError for a text that is no URL (quoting the text before 2.0.41; 1.4 reads as 2.0.0's)
        "unparsable-url": ("sqlalchemy/engine/url.py", "Could not parse SQLAlchemy URL from"),
        # the DBAPI a plain postgresql:// URL loads (psycopg from 2.1, psycopg2 before; 1.x reads as 2.0's)
        "postgresql-default-driver": ("sqlalchemy/dialects/postgresql/__init__.py",
                                      r"re:(?m)^base\.dialect = dialect = (\w+)\.dialect"),
        # greenlet installed with it, not only through the asyncio extra (2.1 stopped: sqlalchemy.ext.asyncio fails)
        "greenlet-required": ("{dist-info}/METADATA", r"re:(?m)^Requires-Dist: (greenlet)\b(?![^\n]*extra ==)"),
        # what importing sqlalchemy.ext.asyncio raises without greenlet
        "greenlet-error": ("sqlalchemy/util/concurrency.py", "requires that the Python 'greenlet'"),
    }),
    "fastapi": ("0.50.0", {
        # what declaring a route with form parameters raises without python-multipart
        "multipart-error": ("fastapi/dependencies/utils.py", 'Form data requires "python-multipart"'),
        # what declaring a route asserts of a parameter with a marker in `Annotated` and another as its default
        # (from 0.95, which reads `Annotated` metadata); each ends in `for {param_name!r}`
        "annotated-depends-default": ("fastapi/dependencies/utils.py",
                                      "Cannot specify `Depends` in `Annotated` and default value"),
        "annotated-marker-depends-default": ("fastapi/dependencies/utils.py",
                                             "Cannot specify a FastAPI annotation in `Annotated` and `Depends`"),
        "annotated-field-default": ("fastapi/dependencies/utils.py",
                                    "Cannot specify FastAPI annotations in `Annotated` and default value"),
    }),
    "uvicorn": ("0.11.0", {
        # how `Server.run` gets its loop: `asyncio.get_event_loop()` before 0.15 (no loop running yet, which
        # uvloop's policy from 0.22 and CPython 3.14's refuse), `asyncio.run` from 0.15 (its own `asyncio_run`
        # from 0.36; main.py held the server before 0.12, _impl/asyncio.py in 0.12.3)
        "server-run-loop": ("uvicorn/server.py|uvicorn/_impl/asyncio.py|uvicorn/main.py",
                            r"re:def run\(self[^\n]*\n(?:[^\n]*\n){0,3}?\s*(?:loop = |return )?(asyncio\.get_event_loop|asyncio[._]run)\("),
    }),
    "uvloop": ("0.14.0", {
        # uvloop's policy subclasses asyncio's (whose get_event_loop creates a loop in the main thread before
        # CPython 3.14); from 0.22 its own class raises there
        "policy-subclasses-asyncio": ("uvloop/__init__.py", r"re:(?m)^class EventLoopPolicy\((__BasePolicy)\)"),
    }),
    "bcrypt": ("3.1.0", {
        # the module passlib 1.7.4 reads bcrypt's version from (bcrypt 4.1 removed it: passlib logs an error)
        "about-module": ("bcrypt/__about__.py", r"re:(__version__)"),
    }),
    "psycopg": ("3.0.0", {
        # the connection error names the host it could not resolve (from 3.3; before, only a debug log did)
        "resolve-host-error": ("psycopg/_conninfo_attempts.py", r"""re:f["'](failed to resolve host) \{"""),
    }),
}
# Distributions whose pre-releases are read too: fixer's answer for a pinned 2.1.0b1 is the 2.1 series'.
MESSAGE_PRERELEASES = {"sqlalchemy"}

# Modules of a package that import, at their top level (not under try/if/def), a distribution the package requires
# only through an extra: importing the module fails without it (starlette's SessionMiddleware and itsdangerous).
# Read from the newest wheel's source; the import name is mapped to its distribution through modules.json.
EXTRA_LOADERS = ["starlette", "fastapi"]

# Compiled dependencies whose wheel coverage per CPython version is recorded.
WHEEL_DISTS = [
    "asyncpg", "psycopg2-binary", "psycopg2", "psycopg-binary", "pydantic-core", "greenlet", "uvloop",
    "httptools", "bcrypt", "sqlalchemy", "cryptography", "orjson",
]
WHEEL_PYTHONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]

# Release lists (upload order) for these.
RELEASE_DISTS = sorted(set(EXPORT_MODULES) | set(REQUIRES_ALL) | set(WHEEL_DISTS) | {
    "psycopg", "aiosqlite", "passlib", "pyjwt", "python-jose", "email-validator", "python-multipart",
    "uvicorn", "alembic", "httpx", "anyio",
})

# Import name -> distribution table: the common dependencies of FastAPI backends, most common first (when two
# distributions provide one import name, the first listed is the usual one).
MODULE_DISTS = [
    "fastapi", "starlette", "pydantic", "pydantic-core", "pydantic-settings", "sqlmodel", "sqlalchemy",
    "uvicorn", "gunicorn", "alembic", "asyncpg", "psycopg2-binary", "psycopg2", "psycopg", "psycopg-binary",
    "aiosqlite", "aiomysql", "pymysql", "mysqlclient", "greenlet", "python-jose", "pyjwt", "passlib", "bcrypt",
    "argon2-cffi", "cryptography", "python-multipart", "multipart", "email-validator", "python-dotenv",
    "python-dateutil", "pyyaml", "httpx", "requests", "aiohttp", "redis", "celery", "kombu", "openai",
    "anthropic", "jinja2", "itsdangerous", "aiofiles", "orjson", "ujson", "loguru", "sentry-sdk", "boto3",
    "botocore", "pillow", "numpy", "pandas", "tenacity", "slowapi", "fastapi-users", "authlib",
    "motor", "pymongo", "beanie", "tortoise-orm", "databases", "websockets", "uvloop", "httptools",
    "anyio", "typing-extensions", "annotated-types", "click", "rich", "typer", "apscheduler", "pytz",
    "stripe", "google-auth", "firebase-admin", "pyotp", "qrcode", "markdown", "beautifulsoup4", "lxml",
    "structlog", "prometheus-client", "prometheus-fastapi-instrumentator", "fastapi-pagination",
    "python-slugify", "phonenumbers", "pycryptodome", "six", "attrs", "dnspython", "idna", "certifi",
    # a project package named like one of these (`mcp/`) shadows it for every installed package that imports it
    "mcp", "openai-agents",
    # what alembic revision files import beside alembic and SQLAlchemy (column types of PostgreSQL extensions)
    "pgvector", "geoalchemy2", "sqlalchemy-utils",
]

PROBE_PYTHON_MIN = (3, 11)  # the newest starlette and sqlalchemy releases need it


# --------------------------------------------------------------------------------------------------------------
# Package index (through pip's own session: the index pip is configured for, no other client)
# --------------------------------------------------------------------------------------------------------------

_SESSION = None


def _session():
    global _SESSION
    if _SESSION is None:
        from pip._internal.network.session import PipSession

        _SESSION = PipSession()
    return _SESSION


def _index_url() -> str:
    from pip._internal.models.index import PyPI

    return os.environ.get("FIXER_GEN_INDEX", PyPI.simple_url).rstrip("/")


def index_listing(dist: str) -> dict:
    """The index's JSON listing of one distribution (PEP 691): versions and files."""
    url = f"{_index_url()}/{canonicalize_name(dist)}/"
    resp = _session().get(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"}, timeout=60)
    resp.raise_for_status()
    return resp.json()


def _parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _file_version(dist: str, filename: str) -> Version | None:
    if filename.endswith(".whl"):
        try:
            return parse_wheel_filename(filename)[1]
        except Exception:
            return None
    name = canonicalize_name(dist).replace("-", "[-_.]")
    m = re.match(rf"(?i)^{name}-(.+?)(\.tar\.gz|\.zip|\.tar\.bz2|\.tgz)$", filename)
    return _parse_version(m.group(1)) if m else None


def releases_of(listing: dict, dist: str) -> list[dict]:
    """[{version, uploaded, requires_python, yanked, files}] in upload order (first file of each release)."""
    by_version: dict[Version, dict] = {}
    for f in listing["files"]:
        v = _file_version(dist, f["filename"])
        if v is None:
            continue
        rec = by_version.setdefault(v, {"version": v, "uploaded": None, "requires_python": "", "yanked": True,
                                        "files": []})
        t = f.get("upload-time")
        if t and (rec["uploaded"] is None or t < rec["uploaded"]):
            rec["uploaded"] = t
        if f.get("requires-python") and not rec["requires_python"]:
            rec["requires_python"] = f["requires-python"]
        if not f.get("yanked"):
            rec["yanked"] = False
        rec["files"].append(f)
    return sorted(by_version.values(), key=lambda r: (r["uploaded"] or "", r["version"]))


def finals(releases: list[dict]) -> list[Version]:
    return sorted(r["version"] for r in releases if not r["version"].is_prerelease and not r["yanked"])


def select_versions(spec: list[str], releases: list[dict]) -> list[Version]:
    allv = finals(releases)

    def series(prefix: str) -> list[Version]:
        parts = tuple(int(p) for p in prefix.split("."))
        return [v for v in allv if v.release[: len(parts)] == parts]

    out: set[Version] = set()
    for item in spec:
        if item == "latest":
            out.add(allv[-1])
        elif item.startswith(("last:", "first:")):
            kind, prefix = item.split(":")
            s = series(prefix)
            if s:
                out.add(s[-1] if kind == "last" else s[0])
        elif item.startswith("each-minor-since:"):
            floor = Version(item.split(":")[1])
            minors: dict[tuple, Version] = {}
            for v in allv:
                if v >= floor:
                    minors[v.release[:2]] = v
            out.update(minors.values())
        else:
            v = Version(item)
            if v in allv:
                out.add(v)
            elif series(item):  # "2.0" -> first release of the 2.0 series
                out.add(series(item)[0])
            else:
                print(f"  note: {item} is not a release, skipped", file=sys.stderr)
    return sorted(out)


# --------------------------------------------------------------------------------------------------------------
# Compact encodings
# --------------------------------------------------------------------------------------------------------------


def collapse(indices: list[int]) -> str:
    """[0,1,2,5,7,8] -> "0-2,5,7-8"."""
    idx = sorted(set(indices))
    parts: list[str] = []
    i = 0
    while i < len(idx):
        j = i
        while j + 1 < len(idx) and idx[j + 1] == idx[j] + 1:
            j += 1
        parts.append(str(idx[i]) if i == j else f"{idx[i]}-{idx[j]}")
        i = j + 1
    return ",".join(parts)


# --------------------------------------------------------------------------------------------------------------
# Releases and wheels
# --------------------------------------------------------------------------------------------------------------


def _manylinux_x86_64(tag: Tag) -> bool:
    return tag.platform == "any" or (
        tag.platform.endswith("x86_64") and (tag.platform.startswith("manylinux") or tag.platform == "linux_x86_64")
    )


def _wheel_pythons(files: list[dict]) -> tuple[list[str], bool]:
    pys: set[str] = set()
    sdist = False
    for f in files:
        fn = f["filename"]
        if not fn.endswith(".whl"):
            sdist = sdist or fn.endswith((".tar.gz", ".zip", ".tar.bz2"))
            continue
        try:
            tags = parse_wheel_filename(fn)[3]
        except Exception:
            continue
        for tag in tags:
            if not _manylinux_x86_64(tag):
                continue
            for py in WHEEL_PYTHONS:
                cp = "cp" + py.replace(".", "")
                major = "py" + py.split(".")[0]
                if tag.interpreter == cp and tag.abi in (cp, cp + "m", "none", "abi3"):
                    pys.add(py)
                elif tag.abi == "abi3" and tag.interpreter.startswith("cp") and \
                        int(tag.interpreter[3:] or 0) <= int(py.split(".")[1]) and tag.interpreter[2] == "3":
                    pys.add(py)
                elif tag.abi == "none" and tag.interpreter in (major, "py" + py.replace(".", "")):
                    pys.add(py)
    return sorted(pys, key=lambda p: tuple(int(x) for x in p.split("."))), sdist


def build_releases_and_wheels(listings: dict[str, dict]) -> tuple[dict, dict]:
    releases_out: dict[str, list] = {}
    wheels_out: dict[str, dict] = {}
    for dist, listing in sorted(listings.items()):
        rels = releases_of(listing, dist)
        rps: list[str] = []
        rows = []
        for r in rels:
            if r["requires_python"] not in rps:
                rps.append(r["requires_python"])
            rows.append([str(r["version"]), (r["uploaded"] or "")[:10], rps.index(r["requires_python"]),
                         1 if r["yanked"] else 0])
        releases_out[dist] = {"requires_python": rps, "releases": rows}
        if dist in WHEEL_DISTS:
            table = {}
            for r in rels:
                pys, sdist = _wheel_pythons(r["files"])
                table[str(r["version"])] = " ".join(pys) + (" sdist" if sdist else "")
            wheels_out[dist] = table
    return releases_out, wheels_out


# --------------------------------------------------------------------------------------------------------------
# Requires-Dist of every release (wheel METADATA, cached)
# --------------------------------------------------------------------------------------------------------------


def _metadata_from_wheel(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.count("/") == 1 and name.endswith(".dist-info/METADATA"):
                return zf.read(name).decode("utf-8", "replace")
    raise ValueError("no METADATA in wheel")


def _pick_wheel(files: list[dict]) -> dict | None:
    wheels = [f for f in files if f["filename"].endswith(".whl")]
    for f in wheels:  # a pure wheel if there is one, else any
        if f["filename"].endswith("-none-any.whl"):
            return f
    return wheels[0] if wheels else None


def release_metadata(dist: str, version: Version, files: list[dict]) -> str | None:
    cache = CACHE / "metadata" / f"{canonicalize_name(dist)}-{version}.METADATA"
    if cache.exists():
        return cache.read_text()
    f = _pick_wheel(files)
    if f is None:
        return None
    resp = _session().get(f["url"], timeout=120)
    resp.raise_for_status()
    text = _metadata_from_wheel(resp.content)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(text)
    return text


def requires_dist(metadata_text: str) -> list[str]:
    msg = email.parser.Parser().parsestr(metadata_text, headersonly=True)
    return [" ".join(r.split()) for r in (msg.get_all("Requires-Dist") or [])]


def build_requires(listings: dict[str, dict], from_envs: dict[str, dict[str, list[str]]], jobs: int) -> dict:
    table: dict[str, dict[str, list[str]]] = {d: dict(v) for d, v in from_envs.items()}
    work = []
    for dist, floor in REQUIRES_ALL.items():
        rels = releases_of(listings[dist], dist)
        for r in rels:
            v = r["version"]
            if v.is_prerelease or v < Version(floor) or str(v) in table.get(dist, {}):
                continue
            work.append((dist, v, r["files"]))
    print(f"requires: {len(work)} release(s) (wheel METADATA, cached after the first read)", file=sys.stderr)
    with cf.ThreadPoolExecutor(max(4, jobs * 4)) as pool:
        futs = {pool.submit(release_metadata, d, v, files): (d, v) for d, v, files in work}
        for fut in cf.as_completed(futs):
            d, v = futs[fut]
            try:
                text = fut.result()
            except Exception as exc:  # noqa: BLE001
                print(f"  {d} {v}: {exc}", file=sys.stderr)
                continue
            if text is not None:
                table.setdefault(d, {})[str(v)] = requires_dist(text)
    return _requires_table(table)


def _requires_table(table: dict[str, dict[str, list[str]]]) -> dict:
    # Compact: each distinct requirement string once ("reqs"), each distinct list of them once ("sets", lists of
    # indices into "reqs"), and per version the index of its set.
    out: dict[str, dict] = {}
    for dist, per_version in sorted(table.items()):
        reqs: list[str] = []
        req_index: dict[str, int] = {}
        sets: list[list[int]] = []
        keyed: dict[tuple, int] = {}
        index: dict[str, int] = {}
        for v in sorted(per_version, key=Version):
            key = tuple(per_version[v])
            if key not in keyed:
                for r in key:
                    if r not in req_index:
                        req_index[r] = len(reqs)
                        reqs.append(r)
                keyed[key] = len(sets)
                sets.append([req_index[r] for r in key])
            index[v] = keyed[key]
        out[dist] = {"reqs": reqs, "sets": sets, "versions": index}
    return out


# --------------------------------------------------------------------------------------------------------------
# Keyword parameters of chosen functions (read from each release's wheel source with ast; nothing is run)
# --------------------------------------------------------------------------------------------------------------


def _keywords_in(source: str, names: tuple[str, ...]) -> dict[str, list[str]]:
    """Every keyword each module-level function `names` accepts (the union over its @overload stubs); "**" when
    it takes **kwargs (any keyword)."""
    import ast

    out: dict[str, set[str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            args = node.args
            found = out.setdefault(node.name, set())
            found |= {a.arg for a in args.args + args.kwonlyargs}
            if args.kwarg is not None:
                found.add("**")
    return {name: sorted(found) for name, found in out.items()}


def build_keywords(listings: dict[str, dict]) -> dict:
    out: dict[str, dict] = {}
    for dist, (floor, member, modules, names) in KEYWORD_FUNCTIONS.items():
        per_name: dict[str, dict[str, list[str]]] = {}
        for r in releases_of(listings[dist], dist):
            v = r["version"]
            if v.is_prerelease or v < Version(floor) or r["yanked"]:
                continue
            f = _pick_wheel(r["files"])
            if f is None:
                continue
            with zipfile.ZipFile(_cached_wheel(f)) as zf:
                source = zf.read(member).decode("utf-8")
            for name, keywords in _keywords_in(source, names).items():
                per_name.setdefault(name, {})[str(v)] = keywords
        out[dist] = {"modules": list(modules), "functions": {
            name: _requires_table({"x": table})["x"] for name, table in per_name.items()}}
        for entry in out[dist]["functions"].values():  # the same compact form as requires.json
            entry["keywords"] = entry.pop("reqs")
    return out


def _cached_wheel(f: dict) -> Path:
    cache = CACHE / "wheels" / f["filename"]
    if not cache.exists():
        resp = _session().get(f["url"], timeout=120)
        resp.raise_for_status()
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(resp.content)
    return cache


# --------------------------------------------------------------------------------------------------------------
# Texts in a package's source (messages), per release (read from each wheel with ast; nothing is run)
# --------------------------------------------------------------------------------------------------------------


def _text_in(source: str, piece: str) -> str | None:
    """The first string constant of `source` (in source order) that contains `piece`; for "re:PATTERN", the first
    group of the pattern's first match in the text."""
    import ast

    if piece.startswith("re:"):
        match = re.search(piece[3:], source)
        return match.group(1) if match else None
    found = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and piece in n.value]
    return min(found, key=lambda n: (n.lineno, n.col_offset)).value if found else None


def build_messages(listings: dict[str, dict]) -> dict:
    out: dict[str, dict] = {}
    for dist, (floor, texts) in MESSAGE_TEXTS.items():
        per_version: dict[Version, dict[str, str | None]] = {}
        files = {r["version"]: r["files"] for r in releases_of(listings[dist], dist)
                 if (dist in MESSAGE_PRERELEASES or not r["version"].is_prerelease) and not r["yanked"]
                 and r["version"] >= Version(floor)}
        with cf.ThreadPoolExecutor(4) as pool:
            wheels = dict(zip(files, pool.map(lambda fs: (f := _pick_wheel(fs)) and _cached_wheel(f), files.values())))
        for v, whl in sorted(wheels.items()):
            if whl is None:
                continue
            with zipfile.ZipFile(whl) as zf:
                listing = set(zf.namelist())
                dist_info = next(n.split("/")[0] for n in listing if n.split("/")[0].endswith(".dist-info"))
                per_version[v] = {}
                for key, (members, piece) in texts.items():
                    member = next((m for m in members.replace("{dist-info}", dist_info).split("|") if m in listing), None)
                    per_version[v][key] = _text_in(zf.read(member).decode("utf-8"), piece) if member else None
        versions = sorted(per_version)
        entry: dict = {"versions": [str(v) for v in versions], "texts": {}}
        for key, (member, piece) in texts.items():
            found: dict[str, list[int]] = {}
            for i, v in enumerate(versions):
                if per_version[v][key] is not None:
                    found.setdefault(per_version[v][key], []).append(i)
            entry["texts"][key] = {"file": member, "piece": piece,
                                   "found": {collapse(idx): text for text, idx in found.items()}}
        out[dist] = entry
    return out


# --------------------------------------------------------------------------------------------------------------
# Modules that import an extra's distribution when they load (read from the newest wheel with ast)
# --------------------------------------------------------------------------------------------------------------


def _top_level_imports(source: str) -> set[str]:
    """The top names of the imports a module runs as it loads: statements of its body only (an import under try:,
    if: or in a function may never run, or is guarded against the ImportError)."""
    import ast

    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def build_extra_loaders(listings: dict[str, dict]) -> dict:
    providers = json.loads((DATA / "modules.json").read_text())["modules"]
    out: dict[str, dict] = {}
    for dist in EXTRA_LOADERS:
        rels = [r for r in releases_of(listings[dist], dist) if not r["version"].is_prerelease and not r["yanked"]]
        newest = max(rels, key=lambda r: r["version"])
        whl = _cached_wheel(_pick_wheel(newest["files"]))
        modules: dict[str, list[list[str]]] = {}
        with zipfile.ZipFile(whl) as zf:
            from packaging.requirements import Requirement

            reqs = [Requirement(r) for r in requires_dist(_metadata_from_wheel(whl.read_bytes()))]
            plain = {canonicalize_name(r.name) for r in reqs if r.marker is None or "extra" not in str(r.marker)}
            extra = {canonicalize_name(r.name) for r in reqs} - plain
            for member in sorted(zf.namelist()):
                if not member.endswith(".py") or ".dist-info/" in member:
                    continue
                module = member[:-3].replace("/", ".").removesuffix(".__init__")
                for top in sorted(_top_level_imports(zf.read(member).decode("utf-8"))):
                    if top in sys.stdlib_module_names:
                        continue
                    provider = next((canonicalize_name(d) for d in providers.get(top, ()) if canonicalize_name(d) in extra), None)
                    if provider is not None:
                        modules.setdefault(module, []).append([provider, top])
        out[dist] = {"version": str(newest["version"]), "modules": modules}
    return out


# --------------------------------------------------------------------------------------------------------------
# Exports (throwaway virtualenvs)
# --------------------------------------------------------------------------------------------------------------

PROBE = r'''
import importlib, importlib.metadata as md, json, pkgutil, sys, warnings
req = json.load(open(sys.argv[1]))
out = {"modules": {}, "installed": {}, "requires": {}, "migration": {}}
for d in md.distributions():
    name = d.metadata["Name"]
    if name:
        out["installed"][name.lower().replace("_", "-")] = d.version
for dist in req["dists"]:
    try:
        out["requires"][dist] = md.metadata(dist).get_all("Requires-Dist") or []
    except Exception:
        pass
warnings.simplefilter("ignore")
for modname in req["modules"]:
    rec = {}
    try:
        mod = importlib.import_module(modname)
    except BaseException as exc:
        rec["error"] = f"{type(exc).__name__}: {exc}"
        out["modules"][modname] = rec
        continue
    names = set(n for n in dir(mod) if not n.startswith("_"))
    names.update(n for n in getattr(mod, "__all__", ()) if isinstance(n, str) and not n.startswith("_"))
    if hasattr(mod, "__path__"):
        names.update(m.name for m in pkgutil.iter_modules(mod.__path__) if not m.name.startswith("_"))
    rec["names"] = sorted(names)
    rec["getattr"] = callable(mod.__dict__.get("__getattr__"))
    rec["moved"] = {}
    rec["lazy"] = []
    if rec["getattr"]:
        for name in req["probe"].get(modname, ()):
            if name in names:
                continue
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    getattr(mod, name)
                except AttributeError:
                    continue
                except BaseException as exc:
                    rec["moved"][name] = f"{type(exc).__name__}: {exc}".strip()
                    continue
            rec["lazy"].append(name)
            if caught:
                rec["moved"].pop(name, None)
                rec.setdefault("deprecated", {})[name] = str(caught[0].message).strip()
    out["modules"][modname] = rec
try:
    mig = importlib.import_module("pydantic._migration")
    for attr in ("MOVED_IN_V2", "DEPRECATED_MOVED_IN_V2", "REDIRECT_TO_V1", "REMOVED_IN_V2"):
        for key in getattr(mig, attr, {}):
            if ":" in key:
                m, n = key.split(":", 1)
                out["migration"].setdefault(m, []).append(n)
except Exception:
    pass
json.dump(out, sys.stdout)
'''


def _uv() -> str | None:
    try:
        import uv  # type: ignore

        return uv.find_uv_bin()
    except Exception:
        return shutil.which("uv")


def make_env(path: Path, python: str, reqs: list[str]) -> tuple[bool, str]:
    uv = _uv()
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never", VIRTUAL_ENV=str(path))
    if uv:
        cmds = [[uv, "venv", "-q", "--python", python, str(path)],
                [uv, "pip", "install", "-q", "--python", str(path / "bin" / "python"), *reqs]]
    else:
        cmds = [[python, "-m", "venv", str(path)],
                [str(path / "bin" / "python"), "-m", "pip", "install", "-q", *reqs]]
    for cmd in cmds:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            return False, (proc.stderr or proc.stdout).strip()[-2000:]
    return True, ""


def run_probe(path: Path, modules: list[str], dists: list[str], probe: dict[str, list[str]]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"modules": modules, "dists": dists, "probe": probe}, fh)
    script = path / "probe_exports.py"
    script.write_text(PROBE)
    try:
        proc = subprocess.run([str(path / "bin" / "python"), str(script), fh.name], capture_output=True, text=True,
                              timeout=600, cwd=str(path))
    finally:
        os.unlink(fh.name)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout)


def build_exports(listings: dict[str, dict], python: str, jobs: int, workdir: Path) -> tuple[dict, dict]:
    targets: list[tuple[str, Version]] = []
    for dist, spec in EXPORT_VERSIONS.items():
        versions = select_versions(spec, releases_of(listings[dist], dist))
        print(f"exports: {dist}: {', '.join(map(str, versions))}", file=sys.stderr)
        targets.extend((dist, v) for v in versions)

    def pass1(target: tuple[str, Version]):
        dist, v = target
        path = workdir / f"{canonicalize_name(dist)}-{v}"
        reqs = [EXPORT_INSTALL.get(dist, "{d}=={v}").format(d=dist, v=v), *EXPORT_EXTRAS.get(dist, [])]
        ok, err = make_env(path, python, reqs)
        if not ok and EXPORT_EXTRAS.get(dist):  # an extra that does not resolve: try the target alone
            shutil.rmtree(path, ignore_errors=True)
            ok, err = make_env(path, python, reqs[:1])
        if not ok:
            print(f"  {dist} {v}: install failed: {err}", file=sys.stderr)
            return target, None
        res = run_probe(path, EXPORT_MODULES[dist], [dist], {})
        print(f"  {dist} {v}: ok ({res['installed'].get(canonicalize_name(dist))})", file=sys.stderr)
        return target, res

    results: dict[tuple[str, Version], dict] = {}
    with cf.ThreadPoolExecutor(jobs) as pool:
        for target, res in pool.map(pass1, targets):
            if res is not None:
                results[target] = res

    # Pass 2: modules with a module-level __getattr__ are asked for every name any version of them had, and
    # for the names pydantic's migration tables list, to find lazy and "moved" names.
    candidates: dict[str, set[str]] = {}
    for (dist, _), res in results.items():
        for mod, rec in res["modules"].items():
            candidates.setdefault(mod, set()).update(rec.get("names", ()))
        for mod, names in res.get("migration", {}).items():
            candidates.setdefault(mod, set()).update(names)

    def pass2(target: tuple[str, Version]):
        dist, v = target
        res = results[target]
        mods = [m for m, rec in res["modules"].items() if rec.get("getattr")]
        if not mods:
            return target, res
        path = workdir / f"{canonicalize_name(dist)}-{v}"
        res2 = run_probe(path, mods, [], {m: sorted(candidates.get(m, ())) for m in mods})
        for m in mods:
            res["modules"][m] = res2["modules"][m]
        return target, res

    with cf.ThreadPoolExecutor(jobs) as pool:
        for target, res in pool.map(pass2, list(results)):
            results[target] = res

    exports: dict[str, dict] = {}
    env_requires: dict[str, dict[str, list[str]]] = {}
    for dist in EXPORT_MODULES:
        recorded = sorted(v for d, v in results if d == dist)
        if not recorded:
            continue
        entry: dict = {"versions": [str(v) for v in recorded], "installed": [], "modules": {}}
        for i, v in enumerate(recorded):
            res = results[(dist, v)]
            keep = {canonicalize_name(n) for n in ("sqlalchemy", "sqlmodel", "pydantic", "pydantic-core",
                                                  "pydantic-settings", "fastapi", "starlette", "greenlet")}
            entry["installed"].append({k: res["installed"][k] for k in sorted(res["installed"]) if k in keep})
            reqs = res["requires"].get(dist)
            if reqs is not None:
                env_requires.setdefault(dist, {})[str(v)] = [" ".join(r.split()) for r in reqs]
        for mod in EXPORT_MODULES[dist]:
            present: list[int] = []
            errors: dict[str, list[int]] = {}
            name_idx: dict[str, list[int]] = {}
            moved: dict[str, tuple[list[int], str]] = {}
            deprecated: dict[str, tuple[list[int], str]] = {}
            for i, v in enumerate(recorded):
                rec = results[(dist, v)]["modules"].get(mod, {})
                if "error" in rec:
                    errors.setdefault(rec["error"], []).append(i)
                    continue
                present.append(i)
                for n in set(rec.get("names", ())) | set(rec.get("lazy", ())):
                    name_idx.setdefault(n, []).append(i)
                for n, msg in rec.get("moved", {}).items():
                    moved.setdefault(n, ([], msg))[0].append(i)
                for n, msg in rec.get("deprecated", {}).items():
                    deprecated.setdefault(n, ([], msg))[0].append(i)
            groups: dict[str, list[str]] = {}
            for n, idx in name_idx.items():
                groups.setdefault(collapse(idx), []).append(n)
            m_entry: dict = {"present": collapse(present),
                             "names": {k: sorted(v) for k, v in sorted(groups.items())}}
            if errors:
                m_entry["errors"] = {collapse(idx): msg for msg, idx in errors.items()}
            if moved:
                m_entry["moved"] = {n: [collapse(idx), msg] for n, (idx, msg) in sorted(moved.items())}
            if deprecated:
                m_entry["deprecated"] = {n: [collapse(idx), msg] for n, (idx, msg) in sorted(deprecated.items())}
            entry["modules"][mod] = m_entry
        exports[dist] = entry
    return exports, env_requires


# --------------------------------------------------------------------------------------------------------------
# Import name -> distribution
# --------------------------------------------------------------------------------------------------------------


JUNK_TOP_LEVEL = {"docs", "doc", "examples", "example", "tests", "test", "testing", "benchmarks", "scripts"}


def _top_level_names(whl: Path) -> list[str]:
    """Import names a wheel provides: its top_level.txt when there is one, else the top of its RECORD (files and
    folders at the wheel's root), leaving out folders packaged by mistake (docs, tests, examples)."""
    names: set[str] = set()
    with zipfile.ZipFile(whl) as zf:
        listing = zf.namelist()
        top = [n for n in listing if n.count("/") == 1 and n.endswith(".dist-info/top_level.txt")]
        if top:
            names.update(x.strip().split("/")[0] for x in zf.read(top[0]).decode().splitlines() if x.strip())
            names -= JUNK_TOP_LEVEL
            if names:
                return sorted(n for n in names if n.isidentifier())
        for n in listing:
            first = n.split("/", 1)[0]
            if first.endswith((".dist-info", ".data")) or first == "__pycache__":
                continue
            if "/" in n:
                names.add(first)
            elif n.endswith(".py"):
                names.add(n[:-3])
            elif n.endswith((".so", ".pyd")):
                names.add(n.split(".", 1)[0])
    return sorted(n for n in names if n.isidentifier() and n not in JUNK_TOP_LEVEL)


def _download(dist: str, dest: Path, extra: list[str]) -> Path | None:
    d = dest / canonicalize_name(dist)
    d.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(d), *extra,
           dist]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    whls = list(d.glob("*.whl"))
    return whls[0] if proc.returncode == 0 and whls else None


def build_modules(workdir: Path, jobs: int, dists: list[str] | None = None) -> dict:
    dest = workdir / "wheels"

    def one(dist: str):
        whl = _download(dist, dest, [])
        if whl is None:  # no Linux wheel for this Python: any wheel of it says the same about import names
            for plat in ("win_amd64", "macosx_11_0_arm64"):
                whl = _download(dist, dest, ["--platform", plat, "--python-version", "3.12"])
                if whl:
                    break
        if whl is None:
            print(f"  modules: no wheel for {dist}", file=sys.stderr)
            return dist, None
        return dist, (str(parse_wheel_filename(whl.name)[1]), _top_level_names(whl))

    providers: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    with cf.ThreadPoolExecutor(max(2, jobs * 2)) as pool:
        results = dict(pool.map(one, dists if dists is not None else MODULE_DISTS))
    for dist in MODULE_DISTS:  # in the listed order: the first provider is the usual one
        res = results.get(dist)
        if not res:
            continue
        seen[dist] = res[0]
        for name in res[1]:
            providers.setdefault(name, []).append(dist)
    return {"modules": dict(sorted(providers.items())), "from": dict(sorted(seen.items()))}


# --------------------------------------------------------------------------------------------------------------


def write_json(name: str, payload: dict) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / name
    path.write_text(json.dumps(payload, separators=(",", ":"), sort_keys=False) + "\n")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="releases,wheels,requires,exports,modules,keywords,messages,loaders",
                    help="comma-separated subset of releases,wheels,requires,exports,modules,keywords,messages,loaders")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter for the throwaway virtualenvs (CPython >= 3.11)")
    ap.add_argument("--jobs", type=int, default=max(2, min(4, (os.cpu_count() or 2))))
    ap.add_argument("--keep", action="store_true", help="keep the work folder (virtualenvs, wheels)")
    ap.add_argument("--dists", default="",
                    help="comma-separated distributions: regenerate only their releases, wheels, exports and "
                         "import names (modules), kept beside the other distributions' entries of the tables")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    if args.dists:
        return _only_dists([canonicalize_name(d) for d in args.dists.split(",")], only, args)

    dists = set(RELEASE_DISTS)
    print(f"index: listing {len(dists)} distributions", file=sys.stderr)
    with cf.ThreadPoolExecutor(8) as pool:
        listings = dict(zip(sorted(dists), pool.map(index_listing, sorted(dists))))
    stamp = {"generated": _dt.date.today().isoformat()}

    if only & {"releases", "wheels"}:
        releases, wheels = build_releases_and_wheels(listings)
        if "releases" in only:
            write_json("releases.json", {**stamp, "columns": ["version", "uploaded", "requires_python", "yanked"],
                                         "order": "upload", "dists": releases})
        if "wheels" in only:
            write_json("wheels.json", {**stamp, "platform": "manylinux_x86_64", "pythons": WHEEL_PYTHONS,
                                       "dists": wheels})

    workdir = Path(tempfile.mkdtemp(prefix="fixer-gen-tables-"))
    try:
        env_requires: dict = {}
        if "exports" in only:
            exports, env_requires = build_exports(listings, args.python, args.jobs, workdir)
            py = subprocess.run([args.python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                capture_output=True, text=True).stdout.strip()
            write_json("exports.json", {**stamp, "python": py, "dists": exports})
        elif "requires" in only and (DATA / "requires.json").exists():
            old = json.loads((DATA / "requires.json").read_text())["dists"]
            for d, e in old.items():
                if d not in REQUIRES_ALL:
                    env_requires[d] = {v: [e["reqs"][j] for j in e["sets"][i]] for v, i in e["versions"].items()}
        if "requires" in only:
            write_json("requires.json", {**stamp, "dists": build_requires(listings, env_requires, args.jobs)})
        if "modules" in only:
            write_json("modules.json", {**stamp, **build_modules(workdir, args.jobs)})
        if "keywords" in only:
            write_json("keywords.json", {**stamp, "dists": build_keywords(listings)})
        if "messages" in only:
            write_json("messages.json", {**stamp, "dists": build_messages(listings)})
        if "loaders" in only:
            write_json("loaders.json", {**stamp, "dists": build_extra_loaders(listings)})
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _merge_requires(new: dict[str, dict[str, list[str]]]) -> None:
    old = json.loads((DATA / "requires.json").read_text())["dists"]
    table = {d: {v: [e["reqs"][j] for j in e["sets"][i]] for v, i in e["versions"].items()} for d, e in old.items()}
    table.update(new)
    write_json("requires.json", {"generated": _dt.date.today().isoformat(), "dists": _requires_table(table)})


def _only_dists(names: list[str], only: set[str], args) -> int:
    """`--dists`: the named distributions' entries, merged into the tables as they are."""
    global EXPORT_VERSIONS
    with cf.ThreadPoolExecutor(8) as pool:
        listings = dict(zip(names, pool.map(index_listing, names)))
    merged: dict[str, dict] = {}
    if only & {"releases", "wheels"}:
        releases, wheels = build_releases_and_wheels(listings)
        merged["releases.json"], merged["wheels.json"] = releases, {d: w for d, w in wheels.items() if d in WHEEL_DISTS}
    if "exports" in only:
        EXPORT_VERSIONS = {d: v for d, v in EXPORT_VERSIONS.items() if canonicalize_name(d) in names}
        workdir = Path(tempfile.mkdtemp(prefix="fixer-gen-tables-"))
        try:
            exports, env_requires = build_exports(listings, args.python, args.jobs, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        merged["exports.json"] = exports
        if "requires" in only:
            _merge_requires(env_requires)
    elif "requires" in only:
        # the named distributions' Requires-Dist, every release since their REQUIRES_ALL floor
        global REQUIRES_ALL
        REQUIRES_ALL = {d: f for d, f in REQUIRES_ALL.items() if canonicalize_name(d) in names}
        fresh = build_requires(listings, {}, args.jobs)
        _merge_requires({d: {v: [e["reqs"][j] for j in e["sets"][i]] for v, i in e["versions"].items()}
                         for d, e in fresh.items()})
    for name, entries in merged.items():
        payload = json.loads((DATA / name).read_text())
        payload["dists"].update(entries)
        write_json(name, payload)
    if "modules" in only:
        _merge_modules([d for d in MODULE_DISTS if d in names], args.jobs)
    return 0


def _merge_modules(dists: list[str], jobs: int) -> None:
    """The import names of `dists` (their newest wheels), merged into modules.json: each provider list keeps
    MODULE_DISTS order."""
    workdir = Path(tempfile.mkdtemp(prefix="fixer-gen-tables-"))
    try:
        fresh = build_modules(workdir, jobs, dists)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    payload = json.loads((DATA / "modules.json").read_text())
    providers = {m: [d for d in ds if d not in dists] for m, ds in payload["modules"].items()}
    for module, ds in fresh["modules"].items():
        providers.setdefault(module, []).extend(ds)
    order = {d: i for i, d in enumerate(MODULE_DISTS)}
    payload["modules"] = {m: sorted(ds, key=lambda d: order.get(d, len(order))) for m, ds in sorted(providers.items()) if ds}
    payload["from"] = dict(sorted({**payload["from"], **fresh["from"]}.items()))
    write_json("modules.json", payload)


if __name__ == "__main__":
    sys.exit(main())
