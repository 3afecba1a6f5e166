"""FX022 lifespan: on_event handlers into the lifespan, hooks that name or call coroutines without awaiting."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.rules.lifespan import Lifespan
from tests.rules.project_helpers import fix

DB = '''\
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("postgresql+asyncpg://u:p@h/db")


async def init_db():
    async with engine.begin() as conn:
        pass


def seed():
    pass
'''
MIXED = '''\
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.db import init_db


@asynccontextmanager
async def lifespan(app: FastAPI):
    print("start")
    try:
        yield
    finally:
        print("stop")


app = FastAPI(lifespan=lifespan)


@app.on_event("startup")
def on_startup():
    init_db()


@app.on_event("shutdown")
async def on_shutdown():
    print("bye")
'''
MIXED_FIXED = '''\
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.db import init_db


@asynccontextmanager
async def lifespan(app: FastAPI):
    print("start")
    try:
        await on_startup()
        yield
        await on_shutdown()
    finally:
        print("stop")


app = FastAPI(lifespan=lifespan)


async def on_startup():
    await init_db()


async def on_shutdown():
    print("bye")
'''
ON_EVENT = '''\
from fastapi import FastAPI

from app.db import init_db, seed

app = FastAPI(title="x")


@app.on_event("startup")
async def startup():
    init_db
    seed
'''
ON_EVENT_FIXED = '''\
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.db import init_db, seed


@asynccontextmanager
async def lifespan(app: FastAPI):
    await startup()
    yield


app = FastAPI(title="x", lifespan=lifespan)


async def startup():
    await init_db()
    seed()
'''


def run(tmp_path: Path, main: str, unsafe: bool = False):
    files = {"app/__init__.py": "", "app/db.py": DB, "app/main.py": main, "requirements.txt": "fastapi\n"}
    return fix(tmp_path, files, codemods=[Lifespan], unsafe=unsafe)


def test_handlers_beside_a_lifespan_are_merged(tmp_path: Path) -> None:
    changed, findings = run(tmp_path, MIXED)
    assert changed == {"app/main.py": MIXED_FIXED}
    assert sorted((f.defects, f.safe, f.fixed) for f in findings) == [
        (("APP-LIFESPAN-MIX",), True, True),
        (("APP-STARTUP-UNAWAITED",), True, True),
    ]


def test_on_event_alone(tmp_path: Path) -> None:
    changed, findings = run(tmp_path / "a", ON_EVENT)
    # Calling what the hook only names is safe; the new lifespan is not (on_event works, deprecated).
    assert changed == {"app/main.py": ON_EVENT.replace("    init_db\n    seed\n", "    await init_db()\n    seed()\n")}
    assert sorted((f.defects, f.safe, f.fixed) for f in findings) == [
        (("APP-ON-EVENT",), False, False),
        (("APP-STARTUP-UNAWAITED",), True, True),
        (("APP-STARTUP-UNAWAITED",), True, True),
    ]
    changed, _ = run(tmp_path / "b", ON_EVENT, unsafe=True)
    assert changed == {"app/main.py": ON_EVENT_FIXED}


def test_unknown_function_is_only_reported(tmp_path: Path) -> None:
    main = "from fastapi import FastAPI\nfrom somewhere import warm_up\n\napp = FastAPI()\n\n\n@app.on_event('startup')\nasync def go():\n    warm_up\n"
    changed, findings = run(tmp_path, main)
    assert changed == {}
    assert sorted((f.safe, f.fixed) for f in findings) == [(False, False), (False, False)]


@pytest.mark.parametrize(
    "main",
    [
        # A correct lifespan.
        "from contextlib import asynccontextmanager\n\nfrom fastapi import FastAPI\n\nfrom app.db import init_db\n\n\n"
        "@asynccontextmanager\nasync def lifespan(app: FastAPI):\n    await init_db()\n    yield\n\n\napp = FastAPI(lifespan=lifespan)\n",
        # add_event_handler takes the function itself.
        "from fastapi import FastAPI\n\nfrom app.db import init_db\n\napp = FastAPI()\napp.add_event_handler('startup', init_db)\n",
        # A router's lifespan, no app here.
        "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.on_event('startup')\nasync def s():\n    pass\n",
    ],
)
def test_left_alone(tmp_path: Path, main: str) -> None:
    assert run(tmp_path, main) == ({}, [])


def test_lifespan_from_elsewhere_is_reported(tmp_path: Path) -> None:
    main = MIXED.replace("@asynccontextmanager\nasync def lifespan", "@asynccontextmanager\nasync def other_lifespan")
    main = main.replace("from app.db import init_db\n", "from app.db import init_db\nfrom app.db import lifespan\n")
    changed, findings = run(tmp_path, main)
    assert [(f.defects, f.fixed) for f in findings if f.defects == ("APP-LIFESPAN-MIX",)] == [(("APP-LIFESPAN-MIX",), False)]


@pytest.mark.parametrize(
    ("call", "fixed"),
    [
        ('FastAPI(title="x", version="2.0.0")', 'FastAPI(title="x", version="2.0.0", lifespan=lifespan)'),
        (
            'FastAPI(\n    title="x",\n    version="2.0.0"\n)',
            'FastAPI(\n    title="x",\n    version="2.0.0",\n    lifespan=lifespan\n)',
        ),
        (
            'FastAPI(\n    title="x",  # shown in /docs\n    version="2.0.0",  # semver\n)',
            'FastAPI(\n    title="x",  # shown in /docs\n    version="2.0.0",  # semver\n    lifespan=lifespan,\n)',
        ),
        ('FastAPI(\n    title="x"\n)', 'FastAPI(\n    title="x",\n    lifespan=lifespan\n)'),
        ('FastAPI(title="x",\n              version="1")', 'FastAPI(title="x",\n              version="1",\n              lifespan=lifespan)'),
    ],
)
def test_lifespan_argument_follows_the_call_layout(tmp_path: Path, call: str, fixed: str) -> None:
    changed, _ = run(tmp_path, ON_EVENT.replace('FastAPI(title="x")', call), unsafe=True)
    new = changed["app/main.py"]
    assert f"app = {fixed}\n" in new
    assert not any(line != line.rstrip() for line in new.splitlines())
