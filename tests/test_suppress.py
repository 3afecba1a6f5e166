"""Suppression comments: `# fixer: ignore[FXnnn]`, `# noqa: FXnnn`, bare `# fixer: ignore`, the line-above form
and the per-file form keep a finding from being reported or edited, for any rule and any file format."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fixer.suppress import ALL, parse
from tests.cli_helpers import fixer

SEED = Path(__file__).parent.parent / "fixtures" / "seed" / "broken" / "backend"


def test_parse_forms() -> None:
    found = parse(
        "# fixer: ignore-file[FX005]\n"
        "a = 1  # fixer: ignore[FX004, fx002]\n"
        "b = 2  # noqa: FX004\n"
        "c = 3  # noqa: E501\n"
        "# fixer: ignore\n"
        "d = 4\n"
        "e = 5  # noqa\n"
        "[x]\n; fixer: ignore[FX001]\n"
    )
    assert found.whole_file == {"FX005"}
    assert found.lines[2] == {"FX004", "FX002"}
    assert found.lines[3] == {"FX004"}
    assert 4 not in found.lines and 7 not in found.lines  # other tools' noqa
    assert found.lines[5] == found.lines[6] == {ALL}  # the comment line and the one below
    assert found.covers("FX001", 10)
    assert found.covers("FX005", 99) and not found.covers("FX004", 99)


@pytest.fixture
def backend(tmp_path: Path) -> Path:
    shutil.copytree(SEED, tmp_path / "backend")
    return tmp_path / "backend"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_line_suppressions_in_python_and_dotenv_are_neither_edited_nor_reported(backend: Path) -> None:
    edit(backend / ".env", "channel_binding=require\n", "channel_binding=require  # fixer: ignore[FX004]\n")
    edit(backend / "src/core/config.py", '5432/app"\n', '5432/app"  # noqa: FX004\n')
    done = fixer("dry-run", ".", cwd=backend)
    assert done.returncode == 1
    assert b".env" not in done.stderr.replace(b"--- a/", b"")  # no held-back note for it: nothing changes there
    assert b"src/core/config.py" not in done.stdout
    assert b"2 suppressed" in done.stderr
    assert b"+++ b/src/core/database.py" in done.stdout and b"+++ b/requirements.txt" in done.stdout
    applied = fixer("apply", ".", cwd=backend)
    assert applied.returncode == 0, applied.stderr
    assert "postgresql://neondb_owner" in (backend / ".env").read_text()
    assert '"postgresql://postgres' in (backend / "src/core/config.py").read_text()
    again = fixer("dry-run", ".", cwd=backend)
    assert again.returncode == 0 and again.stdout == b""


def test_the_comment_above_a_requirement_keeps_it(backend: Path) -> None:
    edit(backend / "requirements.txt", "psycopg2-binary", "# fixer: ignore[FX001]\npsycopg2-binary")
    done = fixer("dry-run", "requirements.txt", cwd=backend)
    assert b"-psycopg2-binary" not in done.stdout
    assert b"+sqlalchemy[asyncio]" in done.stdout  # another finding of the same rule, on another line
    assert b"1 suppressed" in done.stderr


def test_a_file_wide_suppression_and_a_bare_ignore(backend: Path) -> None:
    database = backend / "src/core/database.py"
    database.write_text("# fixer: ignore-file[FX002, FX004]\n" + database.read_text())
    done = fixer("dry-run", "src/core/database.py", cwd=backend)
    assert b"create_async_engine" not in done.stdout
    assert b"suppressed" in done.stderr
    database.write_text(database.read_text().replace("# fixer: ignore-file[FX002, FX004]\n", "# fixer: ignore-file\n"))
    assert fixer("dry-run", "src/core/database.py", cwd=backend).stdout == b""


def test_an_edit_the_kept_line_depends_on_is_not_made(backend: Path) -> None:
    """Suppressing the `create_engine(...)` call must not take away its import: FX002 then edits nothing here."""
    database = backend / "src/core/database.py"
    edit(database, "engine: AsyncEngine = create_engine(", "# fixer: ignore[FX002]\nengine: AsyncEngine = create_engine(")
    done = fixer("dry-run", "-v", "src/core/database.py", cwd=backend)
    assert b"-from sqlmodel import SQLModel, create_engine" not in done.stdout
    assert b"FX002 needs a person" in done.stderr and b"not fixed" in done.stderr
    assert b"1 suppressed" in done.stderr
