"""Property-based tests of every codemod, the way LibCST fuzzes itself: on programs hypothesmith generates
from CPython's grammar, and on the fixtures' code mutated around what the rules match (nesting, decorators,
comments, strings). Whatever the input: no crash, the output parses with CPython, it uses no name that nothing
binds unless the input did too (an import dropped or a helper not added), and a second run changes nothing.

The budget is small in a normal run; FIXER_FUZZ_EXAMPLES=2000 (examples per test) runs a campaign.
"""

from __future__ import annotations

import ast
import builtins
import os
import re
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st

from fixer.model import ProjectModel
from fixer.rules.registry import PYTHON_CODEMODS
from fixer.apply.transform import transform_python

EXAMPLES = int(os.environ.get("FIXER_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    derandomize=EXAMPLES <= 25,  # the normal run is the same every time; a campaign explores
    database=None,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# The broken fixtures' modules that some codemod acts on, plus the shapes the rules match, one per line.
SEEDS = sorted(
    {
        path.read_text(encoding="utf-8")
        for path in FIXTURES.glob("*/broken/**/*.py")
        if any(c.TRIGGER.search(path.read_bytes()) for c in PYTHON_CODEMODS)
    }
)
SNIPPETS = [
    "from sqlalchemy import AsyncEngine, AsyncSession\n",
    "from sqlmodel import SQLModel, AsyncSession, create_async_engine\n",
    "from sqlalchemy.orm import sessionmaker\n",
    "from sqlmodel import create_engine\n",
    "engine = create_engine(settings.DATABASE_URL, echo=False)\n",
    "engine = create_async_engine('postgres://u:p@h/db?sslmode=require&channel_binding=require')\n",
    "SessionLocal = sessionmaker(engine, class_=AsyncSession, autocommit=False, expire_on_commit=True)\n",
    "async def f():\n    async with engine.begin() as conn:\n        await conn.run_sync(m)\n",
    "DATABASE_URL = os.getenv('DATABASE_URL', 'postgresql://app@db/app?sslmode=require')\n",
    "rows = (await session.exec(select(User))).all()\n",
    "import psycopg2\n",
    # The same names in the shapes code takes in the wild: aliases, star and module imports, parenthesised
    # lists with comments, semicolons, TYPE_CHECKING blocks, shadowing, splats, implicit concatenation.
    "from sqlalchemy import AsyncEngine as AE, create_engine as ce\n",
    "from sqlalchemy import *\n",
    "import sqlalchemy\nengine: sqlalchemy.AsyncEngine = sqlalchemy.create_engine(url)\n",
    "from sqlalchemy import (  # why\n    AsyncEngine,  # this one\n    select,\n)\n",
    "x = 1; from sqlalchemy import AsyncSession; y = 2\n",
    "if TYPE_CHECKING:\n    from sqlalchemy import AsyncEngine\n",
    "try:\n    from sqlalchemy import AsyncEngine\nexcept ImportError:\n    AsyncEngine = None\n",
    "def create_engine(url):\n    return url\n",
    "class AsyncSession:\n    pass\n",
    "engine = create_engine(*args, **kwargs)\n",
    "Session = sessionmaker(**options)\n",
    "make = lambda: sessionmaker(engine, class_=AsyncSession)\n",
    "engine = create_engine('postgresql://' 'u:p@h/db' '?sslmode=require')\n",
    "engine = create_engine(f'postgresql://{user}:{pw}@{host}/db?sslmode=require')\n",
    "URL = b'postgresql://h/db'\n",
    "URL = '''postgres://h/db?channel_binding=require'''\n",
    "engine = \\\n    create_engine(\n        url,\n    )\n",
    "del engine\nengine: AsyncEngine\n",
    "async def f():\n    async with sessionmaker(engine, class_=AsyncSession)() as s:\n        await s.exec(q)\n",
    "from __future__ import annotations\n",
]
OWN_NAMES = ["engine", "url", "settings", "session", "conn", "async_session", "get_session", "init_db"]
FIXER_NAMES = ["to_async_database_url", "make_url", "create_async_engine", "async_sessionmaker", "AsyncEngine",
               "AsyncSession", "create_engine", "sessionmaker", "sqlalchemy", "os"]
HEADERS = ["if x:", "def f():", "async def g():", "class C:", "with ctx:", "for _ in xs:", "while go:", "try:"]
DECORATORS = ["@staticmethod", "@functools.lru_cache()", '@app.get("/x")', "@router.post('/y', response_model=X)"]
TEXTS = [
    "create_engine(url)",
    "from sqlalchemy import AsyncEngine",
    "postgresql://u:secret@h/db?sslmode=require",
    "sessionmaker(bind=engine)",
    "fmt: off",
    "type: ignore",
    "noqa: F401",
    "caf\u00e9 \u2603",
]
FACTS = st.builds(
    ProjectModel,
    async_db=st.booleans(),
    sqlmodel_exec=st.booleans(),
    sync_driver_users=st.sampled_from([(), ("app/db.py",), ("other.py",)]),
    unsafe_fixes=st.booleans(),
)
PATHS = st.sampled_from(["db.py", "app/db.py", "app/__init__.py"])


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


@st.composite
def mutated_fixtures(draw) -> str:
    """A fixture module or a few snippets, then mutations placed at random lines; only valid Python is kept."""
    if draw(st.booleans()):
        lines = draw(st.sampled_from(SEEDS)).splitlines(keepends=True)
    else:
        lines = "".join(draw(st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=5))).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(lines)))
        here = _indent(lines[at]) if at < len(lines) else ""
        kind = draw(st.sampled_from(["nest", "decorate", "comment", "trailing", "string", "snippet", "rename"]))
        if kind == "nest":  # everything from a line on, one level deeper under a compound statement
            header = draw(st.sampled_from(HEADERS))
            tail = ["    " + line if line.strip() else line for line in lines[at:]] or ["    pass\n"]
            closing = [f"{here}except Exception:\n", f"{here}    pass\n"] if header == "try:" else []
            lines = lines[:at] + [f"{here}{header}\n"] + tail + closing
        elif kind == "decorate":
            defs = [i for i, line in enumerate(lines) if line.lstrip().startswith(("def ", "async def ", "class "))]
            if defs:
                i = draw(st.sampled_from(defs))
                lines.insert(i, f"{_indent(lines[i])}{draw(st.sampled_from(DECORATORS))}\n")
        elif kind == "comment":
            lines.insert(at, f"{here}# {draw(st.sampled_from(TEXTS))}\n")
        elif kind == "trailing" and at < len(lines):
            lines[at] = lines[at].rstrip("\r\n") + f"  # {draw(st.sampled_from(TEXTS))}\n"
        elif kind == "string":
            quote = draw(st.sampled_from(['"', "'", '"""', "r'", "f'"]))
            end = quote[-1] if quote.startswith(("r", "f")) else quote
            lines.insert(at, f"{here}_s = {quote}{draw(st.sampled_from(TEXTS))}{end}\n")
        elif kind == "snippet":
            snippet = draw(st.sampled_from(SNIPPETS))
            lines[at:at] = [here + line for line in snippet.splitlines(keepends=True)]
        elif kind == "rename":  # the project's own names taking the names fixer writes or looks for
            old, new = draw(st.sampled_from(OWN_NAMES)), draw(st.sampled_from(FIXER_NAMES))
            lines = re.sub(rf"\b{old}\b", new, "".join(lines)).splitlines(keepends=True)
    text = "".join(lines)
    assume(_parses(text))
    return text


def _unbound(source: bytes) -> set[str]:
    """Names read somewhere in the module that nothing in it binds, scopes aside (a cheap pyflakes)."""
    bound, read = set(dir(builtins)), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).partition(".")[0])
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    return read - bound


def _event(outcome: str) -> None:
    if currently_in_test_context():  # counted in --hypothesis-show-statistics
        event(outcome)


def check(rel: str, source: str, facts: ProjectModel) -> None:
    first = transform_python(rel, source.encode("utf-8"), PYTHON_CODEMODS, facts)
    if first.error is not None and first.error.startswith("cannot parse"):
        _event("LibCST cannot parse it")
        return  # valid for CPython, not for LibCST's grammar: reported and skipped, as designed
    assert first.error is None, first.error
    _event("fixed" if first.changed else "found, not fixed" if first.findings else "left alone")
    assert _unbound(first.new) <= _unbound(first.old), "the fix reads a name that nothing binds"
    second = transform_python(rel, first.new, PYTHON_CODEMODS, facts)
    assert second.error is None, second.error
    assert second.new == first.new, "a second run must change nothing"
    assert [f for f in second.findings if f.fixed] == []


@FUZZ
@given(rel=PATHS, source=mutated_fixtures(), facts=FACTS)
def test_codemods_on_mutated_fixtures(rel: str, source: str, facts: ProjectModel) -> None:
    check(rel, source, facts)


@FUZZ
@given(rel=PATHS, program=hypothesmith.from_grammar(), snippet=st.sampled_from(SNIPPETS), facts=FACTS)
def test_codemods_on_generated_programs(rel: str, program: str, snippet: str, facts: ProjectModel) -> None:
    # A generated program alone rarely holds what a rule matches: half the time it comes with a snippet that does.
    source = program if rel == "db.py" else snippet + program
    assume(_parses(source))
    check(rel, source, facts)


@pytest.mark.parametrize("source", SEEDS, ids=range(len(SEEDS)))
def test_the_seed_modules_themselves(source: str) -> None:
    check("app/db.py", source, ProjectModel(async_db=True, sqlmodel_exec=True))


def test_a_module_ending_in_a_blank_indented_line_is_left_as_it_is() -> None:
    # LibCST prints `...\n\n ` back as `...\n `: a codemod that rebuilds a module it does not change edits it.
    check("app/db.py", "from sqlalchemy.orm import sessionmaker\n\n ", ProjectModel())
