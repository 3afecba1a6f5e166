"""The runner: the text check that decides which files are read at all, the project facts, the output check."""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst
import pytest

from fixer.model import FACT_PATTERNS, ProjectModel, gather
from fixer.rules.registry import PYTHON_CODEMODS
from fixer.rules.base import FixerCodemod
from fixer.apply.runner import read_candidates
from fixer.apply.transform import transform_python
from fixer.discover.textcheck import TextCheck

from tests.cli_helpers import fixer

PATTERNS = [*FACT_PATTERNS, *(c.TRIGGER for c in PYTHON_CODEMODS)]

SAMPLES = [
    b"",
    b"import os\n",
    b"import psycopg2\n",
    b'"""Reports."""\n\nimport psycopg2\n',
    b"x = 1\n    from psycopg2.extras import Json\n",
    b"# import psycopg2\n",
    b"import psycopg2cffi\n",
    b"engine = create_engine(url)\n",
    b"engine = create_engine (url)\n",
    b"async with engine.begin():\n",
    b"await engine.dispose()\n",
    b"rows = session.exec(stmt)\n",
    b"Session = sessionmaker(bind=engine)\n",
    b"from sqlalchemy.ext.asyncio import AsyncSession\n",
    b"MyAsyncSessionFactory = 1\n",
    b'URL = "postgresql://u@h/db"\n',
]


@pytest.mark.parametrize("data", SAMPLES)
def test_text_check_answers_as_the_patterns_do(data: bytes) -> None:
    assert TextCheck(PATTERNS)(data) == any(p.search(data) for p in PATTERNS)


def test_psycopg2_import_below_the_first_line_is_read(tmp_path: Path) -> None:
    (tmp_path / "reports.py").write_text('"""Nightly reports."""\n\nimport psycopg2\n')
    (tmp_path / "other.py").write_text("import os\n")
    candidates = read_candidates(tmp_path, ["other.py", "reports.py"], PYTHON_CODEMODS)
    assert [rel for rel, _ in candidates] == ["reports.py"]
    assert gather(candidates).sync_driver_users == ("reports.py",)


def test_psycopg2_kept_for_a_module_that_imports_it_below_line_one(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("fastapi\npsycopg2-binary==2.9.9\n")
    (tmp_path / "db.py").write_text(
        "from sqlalchemy.ext.asyncio import create_async_engine\n\nengine = create_async_engine(URL)\n"
    )
    (tmp_path / "reports.py").write_text('"""Nightly reports."""\n\nimport psycopg2\n')
    done = fixer("apply", tmp_path)
    assert done.returncode in (0, 1), done.stderr
    requirements = (tmp_path / "requirements.txt").read_text()
    assert "psycopg2-binary==2.9.9" in requirements
    assert "asyncpg" in requirements


def test_fixed_output_is_checked_with_cpythons_parser_and_libcst_as_fallback() -> None:
    from fixer.apply.transform import _parse_error

    assert _parse_error(b"x = 1\n", b"x = 2\n") is None
    assert _parse_error(b"x = (\n", b"x = 1\n") is not None
    # Code this interpreter cannot read before the fix is judged by LibCST's grammar, not CPython's.
    assert _parse_error(b"print 'hi'\n", b"print 'hello'\n") is not None


class _Silent(FixerCodemod):
    """Renames `x` to `y` and reports nothing: the bug the runner must not let through."""

    RULE_ID = "FX999"
    RULE_NAME = "silent"
    TRIGGER = re.compile(rb"x")

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        return updated_node.with_changes(value="y") if updated_node.value == "x" else updated_node


def test_an_edit_without_a_finding_is_not_written() -> None:
    # Every hunk of the patch belongs to a finding, so "Would fix N" always counts what the diff shows.
    result = transform_python("a.py", b"x = 1\n", [_Silent], ProjectModel())
    assert result.new == result.old and not result.changed
    assert result.error == "internal error: an edit no finding explains; left as it is"


def test_the_same_defect_twice_is_reported_at_each_of_its_lines() -> None:
    from fixer.apply.transform import transform_python

    block = "maker = sessionmaker(bind=engine, class_=AsyncSession)\n\n"
    source = ("from sqlalchemy.orm import sessionmaker\nfrom sqlalchemy.ext.asyncio import AsyncSession\n\n" + block * 3).encode()
    facts = gather([("db.py", source)])
    result = transform_python("db.py", source, PYTHON_CODEMODS, facts)
    lines = [f.line for f in result.findings if f.rule == "FX003" and "sessionmaker(" in f.old_code]
    assert lines == [4, 6, 8]


def test_the_scan_names_every_file_whose_text_may_define_a_router(tmp_path: Path) -> None:
    """The startup analysis looks for routers never included only in the files the scan names: every file whose
    text, as fixer decodes it, holds `APIRouter(` (a UTF-16 one too), read once or remembered from a round before."""
    from fixer.apply.runner import remembering_scans

    (tmp_path / "users.py").write_text("from fastapi import APIRouter\nrouter = APIRouter()\n")
    (tmp_path / "wide.py").write_bytes("from fastapi import APIRouter\nrouter = APIRouter()\n".encode("utf-16"))
    (tmp_path / "other.py").write_text("import os\n")
    files = ["other.py", "users.py", "wide.py"]
    routers: set[str] = set()
    read_candidates(tmp_path, files, PYTHON_CODEMODS, routers=routers)
    assert routers == {"users.py", "wide.py"}
    with remembering_scans():
        for _ in range(2):
            again: set[str] = set()
            read_candidates(tmp_path, files, PYTHON_CODEMODS, modules={}, routers=again,
                            identity=lambda rel: (0, hash(rel), 1, 1))
            assert again == routers
