"""The patch: git-applicable, deterministic, and never showing a password."""

from __future__ import annotations

import subprocess
from pathlib import Path

from codemods.diff import patch
from codemods.findings import FileResult

OLD = (
    "from sqlalchemy import AsyncEngine\n"
    "import os\n\n\n\n\n\n\n\n"
    'URL = "postgresql://app:hunter2@db/app"\n'
)
NEW = (
    "from sqlalchemy.ext.asyncio import AsyncEngine\n"
    "import os\n\n\n\n\n\n\n\n"
    'URL = "postgresql+asyncpg://app:hunter2@db/app"\n'
)


def test_hunks_with_passwords_are_held_back_and_the_rest_applies(tmp_path: Path) -> None:
    text, notes = patch(FileResult(path="db.py", old=OLD.encode(), new=NEW.encode()))
    assert b"hunter2" not in text
    assert b"+from sqlalchemy.ext.asyncio import AsyncEngine" in text
    (note,) = notes
    assert note.startswith("db.py:10: ") and "app:***@db" in note and "hunter2" not in note

    (tmp_path / "db.py").write_text(OLD)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=text, check=True)
    assert (tmp_path / "db.py").read_text() == NEW.replace("postgresql+asyncpg://", "postgresql://")


def test_env_files_are_never_shown_even_without_a_password() -> None:
    for path in (".env", "deploy/.env.production", "prod.env"):
        text, notes = patch(FileResult(path=path, old=b"A=1\nDATABASE_URL=postgres://h/db\n", new=b"A=1\nDATABASE_URL=postgresql+asyncpg://h/db\n"))
        assert text == b""
        assert notes == [f"{path}:2: 1 line(s) would change (credentials file: not shown; `fixer apply` writes it)"]


def test_line_separators_other_than_newline_stay_inside_their_line(tmp_path: Path) -> None:
    old = "x = 'a\x0cb\u2028c'\nfrom sqlalchemy import AsyncEngine\n"
    new = "x = 'a\x0cb\u2028c'\nfrom sqlalchemy.ext.asyncio import AsyncEngine\n"
    text, _ = patch(FileResult(path="m.py", old=old.encode(), new=new.encode()))
    (tmp_path / "m.py").write_text(old, newline="")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=text, check=True)
    assert (tmp_path / "m.py").read_bytes() == new.encode()
