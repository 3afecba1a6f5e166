"""An engine built on a parameter: the class or function that makes it runs at import (`manager =
DatabaseManager(settings.database_url)`), so its engine gets what the call gives that parameter, the platform's
`postgresql://` among them. The prediction follows the argument, and FX004's fix there is then safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.apply import runner
from fixer.rules.url_normaliser import RuntimeUrlNormaliser
from tests.rules.project_helpers import fix, write

SETTINGS = ("from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n"
            "    database_url: str\n    echo: bool = False\n\n\nsettings = Settings()\n")
MANAGER = '''from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.settings import settings


class Manager:
    def __init__(self, address: str, options: dict = {}):
        self.engine = create_async_engine(address, **options)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)


manager = CALL
'''
MAIN = "from fastapi import FastAPI\n\nfrom app.db import manager\n\napp = FastAPI()\n"


def _files(call: str) -> dict[str, str]:
    return {"app/__init__.py": "", "app/settings.py": SETTINGS, "app/db.py": MANAGER.replace("CALL", call),
            "app/main.py": MAIN, "README.md": "```\nuvicorn app.main:app\n```\n",
            "requirements.txt": "fastapi==0.115.0\nuvicorn\npydantic-settings==2.6.1\nsqlalchemy[asyncio]==2.0.36\n"
                                "asyncpg==0.30.0\n"}


def _first(root: Path) -> str:
    prediction = runner.run(root, codemods=[], text_rules=[], jobs=1).facts.startup.primary
    assert prediction is not None
    return f"{prediction.failures[0]} at {prediction.failures[0].path}" if prediction.failures else "ok"


@pytest.mark.parametrize("call", ['Manager(settings.database_url, {"echo": settings.echo})',
                                  'Manager(options={"echo": settings.echo}, address=settings.database_url)'])
def test_the_argument_a_class_gets_at_import_reaches_its_engine(tmp_path: Path, call: str) -> None:
    root = write(tmp_path / "p", _files(call))
    assert _first(root) == "ModuleNotFoundError: No module named 'psycopg2' at app/db.py"
    changed, findings = fix(root, {}, codemods=[RuntimeUrlNormaliser])
    assert "self.engine = create_async_engine(to_async_database_url(address), **options)" in changed["app/db.py"]
    assert [(f.rule, f.fixed, f.safe) for f in findings] == [("FX004", True, True)]
    assert _first(root) == "ok"


def test_an_argument_that_names_its_driver_is_left_alone(tmp_path: Path) -> None:
    root = write(tmp_path / "p", _files('Manager("postgresql+asyncpg://app:secret@db.internal/app")'))
    assert _first(root) == "ok"
    changed, findings = fix(root, {}, codemods=[RuntimeUrlNormaliser])
    assert changed == {} and [f for f in findings if f.fixed] == []


HANDLERS = '''from sqlalchemy.ext.asyncio import create_async_engine


def make_start_handler(app, config):
    async def start() -> None:
        app.state.engine = create_async_engine(str(config.database_url), pool_size=5)

    return start
'''
FACTORY_MAIN = '''from fastapi import FastAPI

from app.handlers import make_start_handler
from app.settings import settings

app = FastAPI()
app.add_event_handler("startup", HOOK)
'''


@pytest.mark.parametrize(("hook", "fails"), [("make_start_handler(app, settings)", True),
                                             ("lambda: None", False)])
def test_a_startup_handler_a_factory_returns_runs_at_start(tmp_path: Path, hook: str, fails: bool) -> None:
    """`app.add_event_handler("startup", make_start_handler(app, settings))`: the function the factory returns
    is the hook, and the engine it builds meets the platform URL before "Application startup complete"."""
    files = {**_files("None"), "app/handlers.py": HANDLERS, "app/main.py": FACTORY_MAIN.replace("HOOK", hook)}
    del files["app/db.py"]
    root = write(tmp_path / "p", files)
    assert _first(root) == ("ModuleNotFoundError: No module named 'psycopg2' at app/handlers.py" if fails else "ok")
    if fails:  # (an engine module imported but not run by a hook is FX004's by the platform's DATABASE_URL alone)
        changed, _ = fix(root, {}, codemods=[RuntimeUrlNormaliser])
        assert "create_async_engine(to_async_database_url(str(config.database_url)), pool_size=5)" \
            in changed["app/handlers.py"]
        assert _first(root) == "ok"
