"""The three corpora the benchmark times fixer on, built from what is on this machine (no network).

- seed:  the bundled seed backend, as it is (the whole-process cost a user feels on a small project).
- large: the source of every package installed in the running virtualenv (sqlalchemy, fastapi, starlette,
         pydantic, libcst, click, pip, ...), with a few broken backends dropped in: a big tree of real
         code where few files have anything to do with fixer.
- dense: hundreds of varied copies of the fixture backends' relevant files (every file passes a rule's
         text check), at any size: `python bench/corpora.py dense --copies 300 OUT`.
- module: one generated module of several megabytes, database code all through it (the seed's defects
         repeated with every block of ordinary code): what the cost of one file grows with.
- plain: one generated module of several megabytes of ordinary code that nothing of fixer's concerns.

Everything is deterministic: the same packages and the same copy count give the same tree.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = {"seed": REPO / "fixtures" / "seed" / "broken" / "backend", "todo": REPO / "fixtures" / "todo" / "broken"}

# What a source checkout of these packages would hold; binaries and build metadata stay behind.
_SOURCE_SUFFIXES = {".py", ".pyi", ".txt", ".md", ".rst", ".toml", ".cfg", ".ini", ".json", ".yaml", ".yml", ".typed"}
_SKIPPED_ENTRIES = re.compile(r".*\.(dist-info|egg-info|pth)$|__pycache__|__editable__.*|_virtualenv.*")


# ---------------------------------------------------------------------------------------------------- seed


def build_seed(out: Path) -> Path:
    _fresh(out)
    shutil.copytree(FIXTURES["seed"], out / "backend")
    return out


# ---------------------------------------------------------------------------------------------------- large


def installed_packages() -> list[tuple[str, str]]:
    """(distribution, version) of what the large corpus copies from, for the results."""
    from importlib import metadata

    seen = {(dist.metadata["Name"], dist.version) for dist in metadata.distributions()}
    return sorted(seen, key=lambda item: item[0].lower())


def build_large(out: Path, broken_backends: int = 3) -> Path:
    _fresh(out)
    site = Path(sysconfig.get_paths()["purelib"])
    vendor = out / "vendor"
    vendor.mkdir()
    for entry in sorted(site.iterdir()):
        if _SKIPPED_ENTRIES.fullmatch(entry.name):
            continue
        if entry.is_dir():
            shutil.copytree(entry, vendor / entry.name, ignore=_non_source, symlinks=False)
        elif entry.suffix in _SOURCE_SUFFIXES:
            shutil.copy2(entry, vendor / entry.name)
    # A monorepo's few services that do use a database: the fixtures, plus a varied copy.
    apps = out / "apps"
    shutil.copytree(FIXTURES["seed"], apps / "accounts")
    shutil.copytree(FIXTURES["todo"], apps / "todo")
    for n in range(max(0, broken_backends - 2)):
        _write_variant(apps / f"service{n}", random.Random(10_000 + n), n, relevant_only=False)
    return out


def _non_source(folder: str, names: list[str]) -> set[str]:
    return {
        name
        for name in names
        if _SKIPPED_ENTRIES.fullmatch(name)
        or (Path(folder, name).is_file() and Path(name).suffix not in _SOURCE_SUFFIXES)
    }


# ---------------------------------------------------------------------------------------------------- dense


def build_dense(out: Path, copies: int) -> Path:
    """`copies` varied copies of the fixture backends, keeping only files some rule reads."""
    _fresh(out)
    for n in range(copies):
        _write_variant(out / f"c{n:04d}", random.Random(n), n, relevant_only=True)
    return out


_ENGINE_NAMES = ("engine", "db_engine", "main_engine", "pg_engine", "the_engine", "database_engine")
_MAKER_NAMES = ("async_session_maker", "session_factory", "SessionLocal", "make_session", "async_session")
_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg2://")
_URL = re.compile(r"postgres(?:ql)?(?:\+psycopg2)?://[^\s\"'?]*(\?[^\s\"']*)?")


def _write_variant(target: Path, rng: random.Random, n: int, relevant_only: bool) -> None:
    """One fixture backend, with consistent renames, another URL flavour and extra code of varied size."""
    fixture = rng.choice(sorted(FIXTURES))
    source = FIXTURES[fixture]
    renames = {
        "engine": rng.choice(_ENGINE_NAMES),
        "async_session_maker" if fixture == "seed" else "async_session": rng.choice(_MAKER_NAMES),
        "get_session": rng.choice(("get_session", "get_db", "session_dependency", "db_session")),
        "init_db": rng.choice(("init_db", "create_tables", "setup_database")),
    }
    scheme = rng.choice(_SCHEMES)
    ssl = rng.random() < 0.5
    relevant = _relevant_files(source) if relevant_only else None
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(source).as_posix()
        if relevant is not None and rel not in relevant:
            continue
        text = path.read_text(encoding="utf-8")
        for old, new in renames.items():
            text = re.sub(rf"\b{old}\b", new, text)
        text = _URL.sub(lambda m: _url_variant(m.group(0), scheme, ssl), text)
        if path.suffix == ".py" and text.strip():
            text = text.rstrip("\n") + "\n" + "".join(_filler(rng, n, k) for k in range(rng.randrange(0, 9)))
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


def _url_variant(url: str, scheme: str, ssl: bool) -> str:
    rest = url.split("://", 1)[1].split("?", 1)[0]
    return f"{scheme}{rest}" + ("?sslmode=require" if ssl else "")


def _relevant_files(root: Path) -> set[str]:
    """Files fixer reads for a reason: a codemod's or the facts' text check matches, or a text rule applies."""
    from fixer.discover.files import discover
    from fixer.model import FACT_PATTERNS
    from fixer.rules.registry import PYTHON_CODEMODS, TEXT_RULES
    from fixer.discover.textcheck import TextCheck

    rules = [rule() for rule in TEXT_RULES]
    read_by_fixer = TextCheck([*FACT_PATTERNS, *(c.TRIGGER for c in PYTHON_CODEMODS)])  # as the runner decides
    relevant = set()
    for rel in discover(root):
        if any(rule.applies_to(rel) for rule in rules):
            relevant.add(rel)
        elif rel.endswith(".py"):
            data = (root / rel).read_bytes()
            if read_by_fixer(data):
                relevant.add(rel)
    return relevant


_VERBS = ("load", "build", "merge", "render", "fetch", "score", "index", "parse", "sync_up", "collect")
_NOUNS = ("orders", "profile", "report", "invoice", "tags", "events", "metrics", "cart", "audit", "quota")


def _filler(rng: random.Random, n: int, k: int) -> str:
    """Ordinary application code around the database code, so that copies differ in size and shape."""
    name = f"{rng.choice(_VERBS)}_{rng.choice(_NOUNS)}_{n}_{k}"
    cls = "".join(part.title() for part in name.split("_"))
    a, b, c = rng.randrange(2, 50), rng.randrange(1, 9), rng.randrange(100, 600)
    kind = rng.randrange(4)
    if kind == 0:
        return f'''

def {name}(items: list[dict[str, int]], limit: int = {a}) -> dict[str, int]:
    """Sum the values per key over the first `limit` items, keeping totals above {c}."""
    totals: dict[str, int] = {{}}
    for item in items[:limit]:
        for key, value in item.items():
            totals[key] = totals.get(key, 0) + value * {b}
    return {{key: total for key, total in sorted(totals.items()) if total > {c}}}
'''
    if kind == 1:
        return f'''

class {cls}:
    """A small value object ({a} retries by default)."""

    def __init__(self, name: str, retries: int = {a}, *, tags: tuple[str, ...] = ()) -> None:
        self.name = name
        self.retries = retries
        self.tags = tags

    def describe(self) -> str:
        joined = ", ".join(sorted(self.tags)) or "none"
        return f"{{self.name}} (retries={{self.retries}}, tags={{joined}})"

    def __repr__(self) -> str:
        return f"{cls}({{self.name!r}}, retries={{self.retries}})"
'''
    if kind == 2:
        return f'''

async def {name}(client, url: str, *, timeout: float = {b}.5) -> bytes | None:
    """GET `url`, returning the body on HTTP {c // 100 * 100} and None on anything else."""
    try:
        response = await client.get(url, timeout=timeout)
    except (TimeoutError, ConnectionError) as error:  # the caller retries
        print(f"{name}: {{error!r}}")
        return None
    if response.status_code != {c // 100 * 100}:
        return None
    return response.content
'''
    values = ", ".join(str(rng.randrange(1000)) for _ in range(b + 2))
    return f'''

{name.upper()} = {{
    "limit": {a},
    "weights": [{values}],
    "labels": {{"low": "<{b}", "high": ">{c}"}},
    "enabled": {rng.choice(("True", "False"))},
}}
'''


# ---------------------------------------------------------------------------------------------------- module

_MODULE_HEAD = """from typing import AsyncGenerator

from sqlmodel import SQLModel, create_engine
from sqlalchemy import AsyncEngine
from sqlalchemy.orm import sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
"""

_MODULE_BLOCK = """

engine_{n}: AsyncEngine = create_engine("{url}", echo=False, pool_pre_ping=True)

session_maker_{n} = sessionmaker(
    bind=engine_{n},
    class_=AsyncSession,
    autocommit=False,
    autoflush=False,
)


async def get_session_{n}() -> AsyncGenerator[AsyncSession, None]:
    async with session_maker_{n}() as session:
        yield session
"""


def build_module(out: Path, megabytes: float = 5.0) -> Path:
    """One module of about `megabytes` MB: the seed's engine and session defects again and again (one
    engine, sessionmaker and URL to fix per block), each block followed by ordinary code."""
    _fresh(out)
    rng = random.Random(0)
    parts, size, n = [_MODULE_HEAD], len(_MODULE_HEAD), 0
    while size < megabytes * 1_000_000:
        url = _url_variant(f"postgresql://db{n % 7}:5432/app", rng.choice(_SCHEMES), rng.random() < 0.5)
        block = _MODULE_BLOCK.format(n=n, url=url) + "".join(_filler(rng, n, k) for k in range(rng.randrange(0, 9)))
        parts.append(block)
        size += len(block)
        n += 1
    (out / "big.py").write_text("".join(parts), encoding="utf-8")
    return out


def build_plain(out: Path, megabytes: float = 5.0) -> Path:
    """One module of about `megabytes` MB of ordinary code only: nothing in it concerns fixer, so it should cost
    a read and a text check, never a parse."""
    _fresh(out)
    rng = random.Random(1)
    parts, size, n = ['"""Generated: ordinary application code, no database."""\n'], 0, 0
    while size < megabytes * 1_000_000:
        block = "".join(_filler(rng, n, k) for k in range(1, 9))
        parts.append(block)
        size += len(block)
        n += 1
    (out / "plain.py").write_text("".join(parts), encoding="utf-8")
    return out


# ---------------------------------------------------------------------------------------------------- helpers


def _fresh(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", choices=("seed", "large", "dense", "module", "plain"))
    parser.add_argument("out", type=Path)
    parser.add_argument("--copies", type=int, default=300, help="dense: how many backend copies")
    parser.add_argument("--megabytes", type=float, default=5.0, help="module: its size")
    args = parser.parse_args(argv)
    if args.corpus == "seed":
        build_seed(args.out)
    elif args.corpus == "large":
        build_large(args.out)
    elif args.corpus == "module":
        build_module(args.out, args.megabytes)
    elif args.corpus == "plain":
        build_plain(args.out, args.megabytes)
    else:
        build_dense(args.out, args.copies)
    files = sum(1 for p in args.out.rglob("*") if p.is_file())
    print(f"{args.corpus}: {files} files in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
