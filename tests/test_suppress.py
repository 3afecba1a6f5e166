"""Suppression comments: `# fixer: ignore[FXnnn]`, `# noqa: FXnnn`, bare `# fixer: ignore`, the line-above form
and the per-file form keep a finding from being reported or edited, for any rule and any file format."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fixer.discover.suppress import ALL, parse
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


def test_add_noqa_comments_every_unfixed_finding_and_fixes_nothing(backend: Path) -> None:
    before = (backend / "src/core/database.py").read_text()
    done = fixer("apply", "--add-noqa", ".", cwd=backend)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"added 1 suppression comment(s) to src/core/database.py\n"
    after = (backend / "src/core/database.py").read_text()
    assert after == before.replace("= sessionmaker(\n", "= sessionmaker(  # fixer: ignore[FX003]\n")
    check = fixer("dry-run", ".", cwd=backend)
    assert b"unsafe fix" not in check.stderr and b"1 suppressed" in check.stderr
    assert fixer("apply", "--add-noqa", ".", cwd=backend).stdout == b""  # nothing left to comment


def test_add_noqa_never_comments_inside_a_string_or_a_value() -> None:
    from fixer.apply.add_noqa import with_suppressions
    from fixer.rules.findings import Category, FileResult, Finding, Severity

    def finding(line: int) -> Finding:
        return Finding("FX004", Category.DATABASE, Severity.HIGH, "p", "r", "o", "n", "e", fixed=False, line=line)

    python = b'x = 1\nURL = """postgresql://a\npostgresql://b"""\ny = (\n    2,\n)\n'
    new, added = with_suppressions(FileResult("a.py", python, python, [finding(2), finding(3), finding(5)]))
    assert added == 3  # line 2 ends inside the string: its comment goes above it; line 3 ends after it
    assert new == (b'x = 1\n# fixer: ignore[FX004]\nURL = """postgresql://a\npostgresql://b"""  # fixer: ignore[FX004]\n'
                   b'y = (\n    2,  # fixer: ignore[FX004]\n)\n')
    compile(new, "a.py", "exec")
    dotenv = b"A=1\r\nDATABASE_URL=postgresql://u@h/db\r\n"
    new, added = with_suppressions(FileResult(".env", dotenv, dotenv, [finding(2)]))
    assert new == b"A=1\r\n# fixer: ignore[FX004]\r\nDATABASE_URL=postgresql://u@h/db\r\n"
    assert parse(new.decode()).covers("FX004", 3)


def test_a_comment_on_any_line_of_a_python_statement_covers_the_whole_statement() -> None:
    found = parse('engine = create_engine(\n    url,\n)  # fixer: ignore[FX002]\nother = 1\n', python=True)
    assert found.covers("FX002", 1) and found.covers("FX002", 2) and found.covers("FX002", 3)
    assert not found.covers("FX002", 4)
    assert not parse('a = (\n  1,\n)  # fixer: ignore\n').covers("FX002", 1)  # other formats: the line only


def test_a_multi_line_call_is_kept_by_a_comment_on_its_last_line(backend: Path) -> None:
    database = backend / "src/core/database.py"
    text = database.read_text()
    call = next(line for line in text.splitlines() if line.startswith("engine: AsyncEngine = create_engine("))
    split = call.replace("(settings.DATABASE_URL, ", "(\n    settings.DATABASE_URL,\n    ").removesuffix(")")
    database.write_text(text.replace(call, split + "\n)  # fixer: ignore[FX004]"))
    done = fixer("dry-run", "src/core/database.py", cwd=backend)
    assert b"to_async_database_url" not in done.stdout  # FX004's wrap of the engine's URL is not made
    assert b"create_async_engine(" in done.stdout  # FX002's fix still is
    assert b"1 suppressed" in done.stderr
