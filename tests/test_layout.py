"""Code fixer writes looks like the project's: imports in isort's place, the configured line length, and the
configured formatter (only if installed) on the changed lines only."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from cli_helpers import fixer
from fixer.rules.findings import FileResult
from fixer.apply.layout import lay_out, project_style

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed" / "broken" / "backend"
SORTED = """\
from typing import AsyncGenerator

from sqlalchemy import AsyncEngine
from sqlalchemy.orm import sessionmaker
from sqlmodel import SQLModel, create_engine
from sqlmodel.ext.asyncio.session import AsyncSession
"""


def _backend(tmp_path: Path) -> Path:
    backend = Path(shutil.copytree(SEED, tmp_path / "backend"))
    database = backend / "src" / "core" / "database.py"
    text = database.read_text()
    head = text[: text.index("\nfrom src.core.config")]
    database.write_text(SORTED + text[len(head):])
    return backend


def test_added_imports_keep_a_sorted_section_sorted_and_lines_keep_the_line_length(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    done = fixer("apply", ".", "--select", "FX002,FX004", cwd=backend)
    assert done.returncode in (0, 1), done.stderr
    new = (backend / "src" / "core" / "database.py").read_text()
    imports = [line for line in new.splitlines() if line.startswith(("from ", "import "))][:6]
    assert imports == [
        "from typing import AsyncGenerator",
        "from sqlalchemy.engine import make_url",
        "from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine",
        "from sqlalchemy.orm import sessionmaker",
        "from sqlmodel import SQLModel",
        "from sqlmodel.ext.asyncio.session import AsyncSession",
    ]
    # No line length configured: the generated call stays on one line (it is 120 characters).
    assert "create_async_engine(to_async_database_url(settings.DATABASE_URL), echo=False, pool_pre_ping=True)" in new

    again = _backend(tmp_path / "again")
    (again / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    fixer("apply", ".", "--select", "FX002,FX004", cwd=again)
    wrapped = (again / "src" / "core" / "database.py").read_text()
    assert ("engine: AsyncEngine = create_async_engine(\n    to_async_database_url(settings.DATABASE_URL),\n"
            "    echo=False,\n    pool_pre_ping=True,\n)\n") in wrapped
    code = [line for line in wrapped.splitlines() if not line.lstrip().startswith(("#", '"', "Added by"))]
    assert max(map(len, code)) <= 100


def test_the_style_is_the_projects(tmp_path: Path) -> None:
    assert project_style(tmp_path) == project_style(tmp_path)  # nothing configured
    assert project_style(tmp_path).line_length is None and project_style(tmp_path).formatter is None
    (tmp_path / "pyproject.toml").write_text("[tool.black]\n")
    assert (project_style(tmp_path).line_length, project_style(tmp_path).formatter) == (88, "black")
    (tmp_path / "ruff.toml").write_text("line-length = 110\n[format]\nquote-style = 'single'\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert (project_style(tmp_path).line_length, project_style(tmp_path).formatter) == (110, "ruff")


def test_an_installed_formatter_runs_on_the_changed_lines_only(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 88\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    black = bin_dir / "black"
    # A stand-in for black: records how it was called and marks the lines it was asked to format.
    black.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"json.dump(sys.argv[1:], open({str(tmp_path / 'argv.json')!r}, 'w'))\n"
        "lines = sys.stdin.read().splitlines(keepends=True)\n"
        "ranges = [tuple(map(int, a.split('=')[1].split('-'))) for a in sys.argv if a.startswith('--line-ranges=')]\n"
        "for a, b in ranges:\n"
        "    for n in range(a - 1, b):\n"
        "        lines[n] = lines[n].replace('  ', ' ')\n"
        "sys.stdout.write(''.join(lines))\n"
    )
    black.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    old = b"a  =  1\nb = 2\nc  =  3\n"
    new = b"a  =  1\nb = f(2)\nc  =  3\nd  =  4\n"
    result = FileResult(path="app/x.py", old=old, new=new)
    lay_out([result], tmp_path)
    assert result.new == b"a  =  1\nb = f(2)\nc  =  3\nd = 4\n"  # only the changed lines 2 and 4
    assert json.loads((tmp_path / "argv.json").read_text()) == [
        "-q", "--line-ranges=2-2", "--line-ranges=4-4", "--stdin-filename", "app/x.py", "-"]


def test_only_lines_fixer_made_too_long_are_split(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 40\n")
    old = b"x = f(aaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb)\ny = 1\n"
    new = b"x = g(aaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb)\ny = h(cccccccccccccccccccc, dddddddddddddddddddd)\n"
    result = FileResult(path="app/x.py", old=old, new=new)
    lay_out([result], tmp_path)
    # The first line was already longer than the limit: fixer's edit of it keeps its length. The second is fixer's.
    assert result.new == (b"x = g(aaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb)\n"
                          b"y = h(\n    cccccccccccccccccccc,\n    dddddddddddddddddddd,\n)\n")
