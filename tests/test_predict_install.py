"""The prediction's fresh install: which dependency files the documented start installs, what the
distributions it installs provide, and the names an installed package's fresh version no longer has."""

from __future__ import annotations

from pathlib import Path

from fixer.discover.files import discover
from fixer.model import startup

SYNC_APP = (
    "import os\nfrom fastapi import FastAPI\nfrom sqlmodel import create_engine\n"
    "engine = create_engine(os.environ['DATABASE_URL'])\napp = FastAPI()\n"
)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def failures(root: Path) -> list[str]:
    paths = list(discover(root, []))
    found = startup.analyse(root, paths, lambda rel: (root / rel).read_text(),
                            database_url="postgresql://u:p@h/db?sslmode=require")
    return [str(f) for f in found.primary.failures]


def test_another_build_of_a_driver_does_not_bring_the_driver_sqlalchemy_2_1_loads(tmp_path: Path) -> None:
    """psycopg2-binary is psycopg2 built in advance, not a plugin that may bring anything: a bare postgresql://
    on SQLAlchemy 2.1 still needs psycopg (3)."""
    files = {"README.md": "uvicorn main:app\n", "main.py": SYNC_APP,
             "requirements.txt": "fastapi\nuvicorn\nsqlmodel\nsqlalchemy>=2.1\npsycopg2-binary\n"}
    assert failures(write(tmp_path / "a", files)) == ["ModuleNotFoundError: No module named 'psycopg'"]
    files["requirements.txt"] += "psycopg[binary]\n"
    assert failures(write(tmp_path / "b", files)) == []
