"""FX021 pydantic-settings: BaseSettings from pydantic-settings, Config as model_config, the dependency added."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.rules.pydantic_settings import PydanticSettings, PydanticSettingsDependency
from tests.rules.project_helpers import fix

MAIN = "from fastapi import FastAPI\n\nfrom app.config import settings\n\napp = FastAPI()\n"
CONFIG = '''\
from pydantic import BaseSettings, Extra, Field


class Settings(BaseSettings):
    """App settings."""

    database_url: str = Field(..., env="DATABASE_URL")
    debug: bool = False

    class Config:
        env_file = ".env"
        case_sensitive = True


class Other(BaseSettings):
    class Config:
        extra = Extra.ignore
        orm_mode = True


settings = Settings()
'''
FIXED = '''\
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """App settings."""

    database_url: str = Field(..., validation_alias="DATABASE_URL")
    debug: bool = False

    model_config = SettingsConfigDict(env_file=".env", case_sensitive=True, extra="ignore")


class Other(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", from_attributes=True)


settings = Settings()
'''


def run(tmp_path: Path, files: dict[str, str], unsafe: bool = False):
    files = {"app/__init__.py": "", "app/main.py": MAIN, **files}
    return fix(tmp_path, files, codemods=[PydanticSettings], text_rules=[PydanticSettingsDependency], unsafe=unsafe)


def test_pydantic_2_project(tmp_path: Path) -> None:
    changed, findings = run(tmp_path, {"requirements.txt": "fastapi\npydantic>=2\n", "app/config.py": CONFIG})
    assert changed == {"app/config.py": FIXED, "requirements.txt": "fastapi\npydantic>=2\npydantic-settings>=2.0.0\n"}
    assert all(f.safe and f.fixed for f in findings)
    assert {d for f in findings for d in f.defects} == {"DEP-BASESETTINGS", "DEP-SETTINGS-EXTRA"}


def test_poetry_and_an_alias(tmp_path: Path) -> None:
    config = "from pydantic import BaseSettings as Base\n\n\nclass Settings(Base):\n    name: str = 'x'\n\n\nsettings = Settings()\n"
    pyproject = '[tool.poetry.dependencies]\npython = "^3.11"\npydantic = "^2.5"\n'
    changed, _ = run(tmp_path, {"pyproject.toml": pyproject, "app/config.py": config})
    assert changed["app/config.py"] == config.replace("from pydantic import BaseSettings as Base", "from pydantic_settings import BaseSettings as Base")
    assert changed["pyproject.toml"] == pyproject + 'pydantic-settings = "*"\n'


def test_config_that_does_not_map_is_kept(tmp_path: Path) -> None:
    config = (
        "from pydantic import BaseSettings\n\n\nclass Settings(BaseSettings):\n    class Config:\n        env_file = '.env'\n\n"
        "        @classmethod\n        def parse_env_var(cls, field_name, raw_val):\n            return raw_val\n\n\nsettings = Settings()\n"
    )
    changed, findings = run(tmp_path, {"requirements.txt": "pydantic>=2\n", "app/config.py": config})
    assert changed["app/config.py"] == config.replace("from pydantic import", "from pydantic_settings import")
    assert [f.fixed for f in findings if "Config" in f.problem] == [False]


def test_some_route_installs_pydantic_1_is_unsafe(tmp_path: Path) -> None:
    lock = '[[package]]\nname = "pydantic"\nversion = "1.10.13"\n'
    files = {"requirements.txt": "pydantic>=1.10\n", "poetry.lock": lock, "app/config.py": CONFIG}
    changed, findings = run(tmp_path / "a", files)
    assert changed == {} and findings and not any(f.safe or f.fixed for f in findings)
    changed, _ = run(tmp_path / "b", files, unsafe=True)
    assert changed["app/config.py"] == FIXED


@pytest.mark.parametrize(
    "files",
    [
        {"requirements.txt": "fastapi==0.99.1\npydantic==1.10.13\n", "app/config.py": CONFIG},  # VER-PYDANTIC1
        {"requirements.txt": "sqlmodel==0.0.8\n", "app/config.py": CONFIG},  # sqlmodel 0.0.8 requires pydantic<2
        {
            "requirements.txt": "pydantic>=2\npydantic-settings\n",
            "app/config.py": "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    x: int = 1\n\n\nsettings = Settings()\n",
        },
        {
            "requirements.txt": "pydantic>=2\npydantic-settings\n",
            "app/config.py": "try:\n    from pydantic_settings import BaseSettings\nexcept ImportError:\n    from pydantic import BaseSettings\n\nsettings = None\n",
        },
    ],
)
def test_left_alone(tmp_path: Path, files: dict[str, str]) -> None:
    assert run(tmp_path, files) == ({}, [])
