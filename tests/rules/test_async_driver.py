"""FX001 async-driver-dependency: exact before/after texts, findings, -r resolution, idempotency."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from fixer.model import ProjectModel
from fixer.model.database import DatabaseFlow, ShippedUrl
from fixer.model.versions import Versions
from fixer.rules.findings import Category, Severity
from fixer.rules.base import Unparseable
from fixer.rules.async_driver import AsyncDriverDependency

REPO = Path(__file__).resolve().parents[2]
ASYNC = ProjectModel(async_db=True)
SYNC_USERS = ProjectModel(async_db=True, sync_driver_users=("alembic/env.py", "scripts/seed.py"))

SEED_BEFORE = """\
# Backend dependencies
fastapi>=0.115.0
uvicorn>=0.30.0
sqlmodel>=0.0.22
psycopg2-binary>=2.9.9
pydantic>=2.9.0
pydantic-settings>=2.5.0
pyjwt>=2.9.0
bcrypt>=4.2.0
email-validator>=2.2.0
"""
SEED_AFTER = """\
# Backend dependencies
fastapi>=0.115.0
uvicorn>=0.30.0
sqlmodel>=0.0.22
asyncpg>=0.31
pydantic>=2.9.0
pydantic-settings>=2.5.0
pyjwt>=2.9.0
bcrypt>=4.2.0
email-validator>=2.2.0
sqlalchemy[asyncio]>=2.0
"""


@dataclass(frozen=True)
class Case:
    id: str
    path: str
    before: str
    after: str
    facts: ProjectModel = ASYNC


ASYNCPG_URLS = ProjectModel(
    async_db=True,
    flow=DatabaseFlow(shipped=(ShippedUrl(".env.example", 1, "DATABASE_URL", "postgresql+asyncpg", False),)),
)
SA14 = ProjectModel(async_db=True, versions=Versions(effective={"sqlalchemy": "1.4.41", "sqlmodel": "0.0.8"}))
SA20 = ProjectModel(async_db=True, versions=Versions(effective={"sqlalchemy": "2.0.44"}))
# Removing a psycopg2 that asyncpg already covers fixes nothing that fails: an unsafe fix.
UNSAFE = ProjectModel(async_db=True, unsafe_fixes=True)

CASES = [
    Case("seed", "backend/requirements.txt", SEED_BEFORE, SEED_AFTER),
    Case(
        # Used to crash with IndexError: the removal at index 1 and the append were edited in the wrong order.
        "pep621-psycopg2-beside-asyncpg",
        "pyproject.toml",
        '[project]\ndependencies = ["sqlmodel>=0.0.24", "psycopg2-binary>=2.9.10", "asyncpg>=0.30.0"]\n',
        '[project]\ndependencies = ["sqlmodel>=0.0.24", "asyncpg>=0.30.0", "sqlalchemy[asyncio]>=2.0"]\n',
        UNSAFE,
    ),
    Case(
        "pep621-psycopg2-beside-asyncpg-kept",
        "pyproject.toml",
        '[project]\ndependencies = ["sqlmodel>=0.0.24", "psycopg2-binary>=2.9.10", "asyncpg>=0.30.0"]\n',
        '[project]\ndependencies = ["sqlmodel>=0.0.24", "psycopg2-binary>=2.9.10", "asyncpg>=0.30.0", "sqlalchemy[asyncio]>=2.0"]\n',
    ),
    Case(
        # psycopg 3 is an async driver, but `postgresql+asyncpg://` loads asyncpg.
        "psycopg3-listed-asyncpg-named",
        "requirements.txt",
        "sqlmodel\npsycopg[binary]\nsqlalchemy[asyncio]\n",
        "sqlmodel\npsycopg[binary]\nsqlalchemy[asyncio]\nasyncpg>=0.31\n",
        ASYNCPG_URLS,
    ),
    Case(
        # SQLAlchemy 1.4 (through sqlmodel 0.0.8) installs greenlet itself; `sqlalchemy[asyncio]>=2.0` would not resolve.
        "sqlalchemy-1.4-gets-no-greenlet-line",
        "requirements.txt",
        "sqlmodel==0.0.8\npsycopg2-binary\n",
        "sqlmodel==0.0.8\nasyncpg>=0.31\n",
        SA14,
    ),
    Case(
        "sqlalchemy-2.0-gets-no-greenlet-line",
        "requirements.txt",
        "sqlmodel==0.0.22\npsycopg2-binary\n",
        "sqlmodel==0.0.22\nasyncpg>=0.31\n",
        SA20,
    ),
    Case(
        "marker-and-comment-kept",
        "requirements.txt",
        '  sqlmodel==0.0.22\n  psycopg2-binary>=2.9 ; python_version < "3.14"  # the db driver\nhttpx\n',
        '  sqlmodel==0.0.22\n  asyncpg>=0.31 ; python_version < "3.14"  # the db driver\nhttpx\n'
        "sqlalchemy[asyncio]>=2.0\n",
    ),
    Case(
        "crlf-kept",
        "requirements.txt",
        "# deps\r\nsqlmodel\r\npsycopg2\r\n\r\nfastapi\r\n",
        "# deps\r\nsqlmodel\r\nasyncpg>=0.31\r\n\r\nfastapi\r\nsqlalchemy[asyncio]>=2.0\r\n",
    ),
    Case(
        "no-final-newline-kept",
        "requirements-prod.txt",
        "sqlmodel\npsycopg2-binary==2.9.9",
        "sqlmodel\nasyncpg>=0.31\nsqlalchemy[asyncio]>=2.0",
    ),
    Case(
        "name-normalised",
        "requirements.txt",
        "SQLModel\nPsycopg2_Binary==2.9.9\n",
        "SQLModel\nasyncpg>=0.31\nsqlalchemy[asyncio]>=2.0\n",
    ),
    Case(
        "sync-users-keep-psycopg2",
        "requirements.txt",
        "sqlmodel\npsycopg2-binary>=2.9.9  # alembic\nfastapi\n",
        "sqlmodel\npsycopg2-binary>=2.9.9  # alembic\nasyncpg>=0.31\nfastapi\nsqlalchemy[asyncio]>=2.0\n",
        SYNC_USERS,
    ),
    Case(
        "asyncpg-present-psycopg2-removed",
        "requirements.txt",
        "sqlalchemy[asyncio]==2.0.36\nasyncpg==0.31.0\npsycopg2-binary==2.9.9\nfastapi\n",
        "sqlalchemy[asyncio]==2.0.36\nasyncpg==0.31.0\nfastapi\n",
        UNSAFE,
    ),
    Case(
        "greenlet-present",
        "requirements.txt",
        "sqlmodel\ngreenlet>=3.2.4\npsycopg2\n",
        "sqlmodel\ngreenlet>=3.2.4\nasyncpg>=0.31\n",
    ),
    Case(
        "sqlalchemy-gets-extra",
        "requirements.txt",
        "SQLAlchemy>=2.0.30,<2.2  # orm\npsycopg2-binary\n",
        "SQLAlchemy[asyncio]>=2.0.30,<2.2  # orm\nasyncpg>=0.31\n",
    ),
    Case(
        "sqlalchemy-extras-merged",
        "requirements.txt",
        "sqlalchemy[mypy]==2.0.36\nasyncpg\n",
        "sqlalchemy[mypy,asyncio]==2.0.36\nasyncpg\n",
    ),
    Case(
        "no-driver-adds-asyncpg",
        "requirements.txt",
        "fastapi\nsqlmodel>=0.0.22\nuvicorn\n",
        "fastapi\nsqlmodel>=0.0.22\nasyncpg>=0.31\nuvicorn\nsqlalchemy[asyncio]>=2.0\n",
    ),
    Case(
        "psycopg3-is-async",
        "requirements.txt",
        "sqlmodel\npsycopg[binary]>=3.2\n",
        "sqlmodel\npsycopg[binary]>=3.2\nsqlalchemy[asyncio]>=2.0\n",
    ),
    Case(
        "split-markers-each-replaced",
        "requirements/base.txt",
        'psycopg2-binary; sys_platform != "darwin"\npsycopg2; sys_platform == "darwin"\nsqlmodel\n',
        'asyncpg>=0.31; sys_platform != "darwin"\nasyncpg>=0.31; sys_platform == "darwin"\nsqlmodel\n'
        "sqlalchemy[asyncio]>=2.0\n",
    ),
    Case(
        "options-and-urls-untouched",
        "requirements.txt",
        "--index-url https://pypi.org/simple\n-r base.txt\n-e ./libs/common\n"
        "mylib @ https://example.com/mylib-1.0.tar.gz\n\n# db\npsycopg2-binary  # driver\n",
        "--index-url https://pypi.org/simple\n-r base.txt\n-e ./libs/common\n"
        "mylib @ https://example.com/mylib-1.0.tar.gz\n\n# db\nasyncpg>=0.31  # driver\nsqlalchemy[asyncio]>=2.0\n",
    ),
    Case(
        "continued-line-joined",
        "requirements.txt",
        "sqlmodel\npsycopg2-binary \\\n    >=2.9.9\nfastapi\n",
        "sqlmodel\nasyncpg>=0.31\nfastapi\nsqlalchemy[asyncio]>=2.0\n",
    ),
    Case(
        "tabs-and-psycopg2-options",
        "requirements.txt",
        "\tsqlmodel\n\tpsycopg2-binary==2.9.9 --config-settings=pg_config=/usr/bin/pg_config  # build\n",
        "\tsqlmodel\n\tasyncpg>=0.31  # build\nsqlalchemy[asyncio]>=2.0\n",
    ),
    Case(
        "dangling-continuation-at-eof",
        "requirements.txt",
        "sqlmodel\\\n",
        "sqlmodel\\\n\nasyncpg>=0.31\nsqlalchemy[asyncio]>=2.0\n",
    ),
    Case(
        "invalid-line-left-alone",
        "requirements.txt",
        "sqlmodel\nnot a requirement at all\npsycopg2\n",
        "sqlmodel\nnot a requirement at all\nasyncpg>=0.31\nsqlalchemy[asyncio]>=2.0\n",
    ),
    Case(
        "pep621-multiline",
        "pyproject.toml",
        '[project]\nname = "backend"\ndependencies = [\n'
        '    "fastapi>=0.115.0",\n'
        '    "sqlmodel>=0.0.22",\n'
        "    'psycopg2-binary>=2.9.9; python_version < \"3.14\"',  # driver\n"
        '    "pydantic>=2.9.0",\n'
        "]\n\n[tool.ruff]\nline-length = 100\n",
        '[project]\nname = "backend"\ndependencies = [\n'
        '    "fastapi>=0.115.0",\n'
        '    "sqlmodel>=0.0.22",\n'
        "    'asyncpg>=0.31; python_version < \"3.14\"',  # driver\n"
        '    "pydantic>=2.9.0",\n'
        '    "sqlalchemy[asyncio]>=2.0",\n'
        "]\n\n[tool.ruff]\nline-length = 100\n",
    ),
    Case(
        "pep621-no-trailing-comma-crlf",
        "backend/pyproject.toml",
        '[project]\r\nname = "b"\r\ndependencies = [\r\n  "SQLAlchemy>=2.0.30",\r\n  "psycopg2"\r\n]\r\n',
        '[project]\r\nname = "b"\r\ndependencies = [\r\n  "SQLAlchemy[asyncio]>=2.0.30",\r\n  "asyncpg>=0.31"\r\n]\r\n',
    ),
    Case(
        "pep621-optional-dependencies",
        "pyproject.toml",
        '[project]\nname = "b"\ndependencies = ["fastapi", "sqlmodel"]\n\n'
        '[project.optional-dependencies]\npostgres = ["psycopg2-binary>=2.9"]\ndev = ["pytest"]\n',
        # The driver lives in the extra: it is swapped there, and greenlet goes to the main list.
        '[project]\nname = "b"\ndependencies = ["fastapi", "sqlmodel", "sqlalchemy[asyncio]>=2.0"]\n\n'
        '[project.optional-dependencies]\npostgres = ["asyncpg>=0.31"]\ndev = ["pytest"]\n',
    ),
    Case(
        "pep621-comment-closes-array",
        "pyproject.toml",
        '[project]\ndependencies = [\n  # db\n  "sqlmodel",\n  "psycopg2",  # drv\n  # end\n]\n',
        '[project]\ndependencies = [\n  # db\n  "sqlmodel",\n  "asyncpg>=0.31",  # drv\n  # end\n'
        '  "sqlalchemy[asyncio]>=2.0",\n]\n',
    ),
    Case(
        "pep621-no-final-newline",
        "pyproject.toml",
        '[project]\ndependencies = ["sqlmodel", "psycopg2"]',
        '[project]\ndependencies = ["sqlmodel", "asyncpg>=0.31", "sqlalchemy[asyncio]>=2.0"]',
    ),
    Case(
        "pep735-dependency-groups",
        "pyproject.toml",
        '[dependency-groups]\ndb = ["sqlmodel", "psycopg2-binary"]\ndev = ["pytest", {include-group = "db"}]\n',
        '[dependency-groups]\ndb = ["sqlmodel", "asyncpg>=0.31", "sqlalchemy[asyncio]>=2.0"]\n'
        'dev = ["pytest", {include-group = "db"}]\n',
    ),
    Case(
        "poetry",
        "pyproject.toml",
        '[tool.poetry]\nname = "b"\n\n[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "^0.115"\n'
        'sqlmodel = "^0.0.22"\npsycopg2-binary = "^2.9"  # driver\n'
        'uvicorn = {version = "^0.30", extras = ["standard"]}\n\n'
        '[tool.poetry.group.dev.dependencies]\npytest = "^8.3"\n',
        '[tool.poetry]\nname = "b"\n\n[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "^0.115"\n'
        'sqlmodel = "^0.0.22"\nasyncpg = ">=0.31"  # driver\nuvicorn = {version = "^0.30", extras = ["standard"]}\n'
        'sqlalchemy = {version = ">=2.0", extras = ["asyncio"]}\n\n'
        '[tool.poetry.group.dev.dependencies]\npytest = "^8.3"\n',
    ),
    Case(
        "poetry-sqlalchemy-and-sync-users",
        "pyproject.toml",
        '[tool.poetry.dependencies]\npython = "^3.11"\nSQLAlchemy = "^2.0.30"\n'
        'psycopg2-binary = {version = "^2.9", python = "<3.14"}\n',
        '[tool.poetry.dependencies]\npython = "^3.11"\nSQLAlchemy = {version = "^2.0.30", extras = ["asyncio"]}\n'
        'psycopg2-binary = {version = "^2.9", python = "<3.14"}\nasyncpg = {version = ">=0.31", python = "<3.14"}\n',
        SYNC_USERS,
    ),
    Case(
        "poetry-crlf-sync-users",
        "pyproject.toml",
        '[tool.poetry.dependencies]\r\npython = "^3.11"\r\nsqlmodel = "*"\r\npsycopg2 = "^2.9"\r\n\r\n'
        '[tool.poetry.group.dev.dependencies]\r\npytest = "*"\r\n',
        '[tool.poetry.dependencies]\r\npython = "^3.11"\r\nsqlmodel = "*"\r\npsycopg2 = "^2.9"\r\n'
        'asyncpg = ">=0.31"\r\nsqlalchemy = {version = ">=2.0", extras = ["asyncio"]}\r\n\r\n'
        '[tool.poetry.group.dev.dependencies]\r\npytest = "*"\r\n',
        SYNC_USERS,
    ),
    Case(
        "poetry-multiple-constraints",
        "pyproject.toml",
        '[tool.poetry.dependencies]\npython = "^3.11"\n'
        'sqlalchemy = [{version = "^2.0", python = "<3.12"}, {version = "^2.1", python = ">=3.12"}]\n'
        'asyncpg = "^0.31"',
        '[tool.poetry.dependencies]\npython = "^3.11"\n'
        'sqlalchemy = [{version = "^2.0", python = "<3.12", extras = ["asyncio"]}, '
        '{version = "^2.1", python = ">=3.12", extras = ["asyncio"]}]\n'
        'asyncpg = "^0.31"',
    ),
    Case(
        "poetry-group",
        "pyproject.toml",
        '[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "*"\n\n'
        '[tool.poetry.group.db.dependencies]\nsqlmodel = "*"\npsycopg2 = "^2.9"\n',
        '[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "*"\n\n'
        '[tool.poetry.group.db.dependencies]\nsqlmodel = "*"\nasyncpg = ">=0.31"\n'
        'sqlalchemy = {version = ">=2.0", extras = ["asyncio"]}\n',
    ),
]


@pytest.fixture
def rule() -> AsyncDriverDependency:
    return AsyncDriverDependency()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_before_after(rule: AsyncDriverDependency, case: Case) -> None:
    assert rule.applies_to(case.path)
    new, findings = rule.fix(case.path, case.before, case.facts)
    assert new == case.after
    assert findings and all(f.fixed for f in findings)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_idempotent(rule: AsyncDriverDependency, case: Case) -> None:
    once, _ = rule.fix(case.path, case.before, case.facts)
    twice, findings = rule.fix(case.path, once, case.facts)
    assert twice is once
    assert findings == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_findings_are_complete(rule: AsyncDriverDependency, case: Case) -> None:
    _, findings = rule.fix(case.path, case.before, case.facts)
    lines = case.before.splitlines()
    for f in findings:
        assert (f.rule, f.category, f.severity) == ("FX001", Category.DEPENDENCY, Severity.CRITICAL)
        assert len(f.problem) >= 10 and len(f.root_cause) >= 10 and len(f.explanation) >= 10
        assert f.defects in (("DEP-DRIVER",), ("ENG-GREENLET",))
        assert f.old_code != f.new_code
        assert f.line is not None and 1 <= f.line <= len(lines)
        if f.old_code:
            assert f.old_code.splitlines()[0] in lines[f.line - 1]


def test_seed_fixture_matches(rule: AsyncDriverDependency) -> None:
    broken = (REPO / "fixtures/seed/broken/backend/requirements.txt").read_text()
    fixed = (REPO / "fixtures/seed/fixed/backend/requirements.txt").read_text()
    assert broken == SEED_BEFORE
    assert rule.fix("backend/requirements.txt", broken, ASYNC)[0] == fixed


def test_seed_findings(rule: AsyncDriverDependency) -> None:
    _, findings = rule.fix("backend/requirements.txt", SEED_BEFORE, ASYNC)
    driver, greenlet = findings
    assert (driver.old_code, driver.new_code, driver.line, driver.defects) == (
        "psycopg2-binary>=2.9.9",
        "asyncpg>=0.31",
        5,
        ("DEP-DRIVER",),
    )
    assert "3.13" in driver.explanation and "3.14" in driver.explanation
    assert (greenlet.old_code, greenlet.new_code, greenlet.defects) == (
        "",
        "sqlalchemy[asyncio]>=2.0",
        ("ENG-GREENLET",),
    )
    assert "greenlet" in greenlet.root_cause


def test_sync_users_named(rule: AsyncDriverDependency) -> None:
    _, findings = rule.fix("requirements.txt", "sqlmodel\npsycopg2-binary\n", SYNC_USERS)
    driver = next(f for f in findings if f.defects == ("DEP-DRIVER",))
    assert driver.old_code == "" and driver.new_code == "asyncpg>=0.31" and driver.line == 2
    assert "alembic/env.py" in driver.explanation and "scripts/seed.py" in driver.explanation


def test_asyncpg_present_with_sync_users_keeps_everything(rule: AsyncDriverDependency) -> None:
    text = "sqlalchemy[asyncio]\nasyncpg\npsycopg2-binary\n"
    new, findings = rule.fix("requirements.txt", text, SYNC_USERS)
    assert new is text and findings == []


@pytest.mark.parametrize(
    "text",
    [
        "sqlmodel\npsycopg2-binary\n",
        "fastapi\n",
        "",
    ],
)
def test_not_async_unchanged(rule: AsyncDriverDependency, text: str) -> None:
    new, findings = rule.fix("requirements.txt", text, ProjectModel(async_db=False, sync_driver_users=("a.py",)))
    assert new is text and findings == []


def test_unrelated_file_unchanged(rule: AsyncDriverDependency) -> None:
    text = "# tooling\r\npytest>=8\r\nruff"
    new, findings = rule.fix("requirements-dev.txt", text, ASYNC)
    assert new is text and findings == []


HASHED = """\
#
# This file is autogenerated by pip-compile with Python 3.13
#
psycopg2-binary==2.9.10 \\
    --hash=sha256:0a6ab5e9b2a8b1ad2b5d3b3fd8b5ebf35d2d2fbd5b1fb7b8f7a0f0b2f6b8a1c2
    # via -r requirements.in
sqlmodel==0.0.22 \\
    --hash=sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90
    # via -r requirements.in
"""


def test_hash_mode_reports_unfixed(rule: AsyncDriverDependency) -> None:
    new, findings = rule.fix("requirements.txt", HASHED, ASYNC)
    assert new is HASHED
    (finding,) = findings
    assert finding.fixed is False
    assert finding.line == 4
    assert finding.defects == ("DEP-DRIVER", "ENG-GREENLET")
    assert finding.old_code == "psycopg2-binary==2.9.10"
    assert finding.new_code == "asyncpg>=0.31\nsqlalchemy[asyncio]>=2.0"
    assert "pip-compile --generate-hashes" in finding.explanation and "pip hash" in finding.explanation
    # Nothing can change, so a second run reports the same thing and still edits nothing.
    again, findings_again = rule.fix("requirements.txt", new, ASYNC)
    assert again is new and findings_again == findings


def test_require_hashes_option_is_hash_mode(rule: AsyncDriverDependency) -> None:
    text = "--require-hashes\nsqlmodel\n"
    new, (finding,) = rule.fix("requirements.txt", text, ASYNC)
    assert new is text and not finding.fixed


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("requirements.txt", True),
        ("backend/requirements.txt", True),
        ("requirements-dev.txt", True),
        ("requirements_prod.txt", True),
        ("requirements/base.txt", True),
        ("backend/requirements/prod.txt", True),
        ("pyproject.toml", True),
        ("backend/pyproject.toml", True),
        ("requirements.in", False),
        ("docs/notes.txt", False),
        ("src/requirements.py", False),
        ("setup.cfg", False),
    ],
)
def test_applies_to(rule: AsyncDriverDependency, path: str, expected: bool) -> None:
    assert rule.applies_to(path) is expected


def test_related_resolution(rule: AsyncDriverDependency) -> None:
    text = (
        "-r base.txt\n"
        "--requirement=../shared/common.txt  # shared\n"
        "--requirement ./requirements/extra.txt\n"
        "-rsub/more.txt\n"
        "-r base.txt\n"  # listed twice: reported once
        "-c constraints.txt\n"
        "-r ../../outside.txt\n"
        "-r /etc/requirements.txt\n"
        "-r https://example.com/requirements.txt\n"
        "-r ${EXTRA}/reqs.txt\n"
        "# -r commented.txt\n"
        "fastapi\n"
    )
    assert rule.related("backend/requirements.txt", text) == [
        "backend/base.txt",
        "shared/common.txt",
        "backend/requirements/extra.txt",
        "backend/sub/more.txt",
    ]
    assert rule.related("requirements.txt", "-r ../up.txt\n-r a/../b.txt\n") == ["b.txt"]
    assert rule.related("pyproject.toml", '[project]\nname = "x"\n') == []


def test_requirement_chain_on_disk(rule: AsyncDriverDependency, tmp_path: Path) -> None:
    (tmp_path / "backend/requirements").mkdir(parents=True)
    (tmp_path / "backend/requirements.txt").write_bytes(b"-r requirements/base.txt\r\npsycopg2-binary==2.9.9\r\n")
    (tmp_path / "backend/requirements/base.txt").write_bytes(b"fastapi\nsqlmodel>=0.0.22\n")
    (tmp_path / "backend/requirements/dev.txt").write_bytes(b"-r base.txt\npytest\n")

    todo, seen, results = ["backend/requirements.txt"], set(), {}
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        text = (tmp_path / path).read_bytes().decode()
        todo += [p for p in rule.related(path, text) if (tmp_path / p).is_file()]
        results[path] = rule.fix(path, text, ASYNC)[0]

    assert results == {
        "backend/requirements.txt": "-r requirements/base.txt\r\nasyncpg>=0.31\r\nsqlalchemy[asyncio]>=2.0\r\n",
        # base.txt has no driver of its own: it gets asyncpg too (harmless duplicate) and greenlet.
        "backend/requirements/base.txt": "fastapi\nsqlmodel>=0.0.22\nasyncpg>=0.31\nsqlalchemy[asyncio]>=2.0\n",
    }
    assert rule.related("backend/requirements/dev.txt", "-r base.txt\n") == ["backend/requirements/base.txt"]


def test_pyproject_main_asyncpg_covers_extras(rule: AsyncDriverDependency) -> None:
    text = (
        '[project]\nname = "b"\ndependencies = [\n    "sqlalchemy[asyncio]>=2.0.30",\n    "asyncpg>=0.31",\n]\n\n'
        '[project.optional-dependencies]\nsync = [\n    "psycopg2-binary",  # for scripts\n    "typer",\n]\n'
    )
    assert rule.fix("pyproject.toml", text, ASYNC) == (text, [])
    new, findings = rule.fix("pyproject.toml", text, UNSAFE)
    assert new == (
        '[project]\nname = "b"\ndependencies = [\n    "sqlalchemy[asyncio]>=2.0.30",\n    "asyncpg>=0.31",\n]\n\n'
        '[project.optional-dependencies]\nsync = [\n    "typer",\n]\n'
    )
    (finding,) = findings
    assert finding.old_code == '"psycopg2-binary"' and finding.new_code == "" and finding.line == 10
    assert rule.fix("pyproject.toml", new, UNSAFE) == (new, [])


def test_pyproject_lines(rule: AsyncDriverDependency) -> None:
    case = next(c for c in CASES if c.id == "pep621-multiline")
    _, findings = rule.fix(case.path, case.before, case.facts)
    assert [(f.line, f.old_code, f.new_code) for f in findings] == [
        (6, "'psycopg2-binary>=2.9.9; python_version < \"3.14\"'", "'asyncpg>=0.31; python_version < \"3.14\"'"),
        (7, "", '"sqlalchemy[asyncio]>=2.0"'),
    ]


def test_poetry_extras_follow_the_driver(rule: AsyncDriverDependency) -> None:
    text = (
        '[tool.poetry.dependencies]\npython = "^3.11"\nsqlmodel = "*"\n'
        'psycopg2-binary = {version = "^2.9", optional = true}\n\n'
        '[tool.poetry.extras]\npg = ["psycopg2-binary"]\n'
    )
    new, _ = rule.fix("pyproject.toml", text, ASYNC)
    assert new == (
        '[tool.poetry.dependencies]\npython = "^3.11"\nsqlmodel = "*"\n'
        'asyncpg = {version = ">=0.31", optional = true}\n'
        'sqlalchemy = {version = ">=2.0", extras = ["asyncio"]}\n\n'
        '[tool.poetry.extras]\npg = ["asyncpg"]\n'
    )
    assert rule.fix("pyproject.toml", new, ASYNC) == (new, [])


def test_pyproject_without_dependencies_unchanged(rule: AsyncDriverDependency) -> None:
    text = "[tool.ruff]\nline-length = 100\n"
    assert rule.fix("pyproject.toml", text, ASYNC)[0] is text


def test_invalid_pyproject_is_reported_not_guessed_at(rule: AsyncDriverDependency) -> None:
    with pytest.raises(Unparseable, match="not valid TOML"):
        rule.fix("pyproject.toml", "[project\nname = ", ASYNC)


def test_metadata() -> None:
    assert AsyncDriverDependency.RULE_ID == "FX001"
    assert AsyncDriverDependency.RULE_NAME == "async-driver-dependency"
    assert AsyncDriverDependency.title() == "Install asyncpg and greenlet for the async engine"
    doc = AsyncDriverDependency.__doc__ or ""
    assert "DEP-DRIVER" in doc and "ENG-GREENLET" in doc and "Before:" in doc and "After:" in doc


def test_a_project_without_a_dependency_file_is_told_so(rule: AsyncDriverDependency) -> None:
    ((path, finding),) = rule.missing(ProjectModel(async_db=True, has_app=True))
    assert path == "requirements.txt" and not finding.fixed and "asyncpg" in finding.new_code
    assert rule.missing(ProjectModel(async_db=True, has_app=True, versions=Versions(files=("pyproject.toml",)))) == []
    assert rule.missing(ASYNC) == []  # no app: not a backend
    assert rule.missing(ProjectModel()) == []  # a sync project needs no async driver


def test_no_floor_beside_a_pin_fixer_cannot_see_into(tmp_path: Path) -> None:
    """acme-orm-tools==1.0 may hold SQLAlchemy below 2.0: greenlet comes through the extra without a floor. A
    pin whose requirements are known to cap SQLAlchemy at 1.4 (fastapi-users-db-sqlmodel 0.2.0) gets no line:
    SQLAlchemy 1.4 brings greenlet itself."""
    from tests.rules.project_helpers import fix

    db = "from sqlalchemy.ext.asyncio import create_async_engine\nengine = create_async_engine('postgresql+asyncpg://u:p@h/d')\n"
    main = "from fastapi import FastAPI\nfrom app.db import engine\napp = FastAPI()\n"
    files = {"app/__init__.py": "", "app/db.py": db, "app/main.py": main}
    changed, _ = fix(tmp_path / "a", {**files, "requirements.txt": "fastapi\nsqlmodel\nasyncpg\nacme-orm-tools==1.0\n"},
                     text_rules=[AsyncDriverDependency])
    assert changed == {"requirements.txt": "fastapi\nsqlmodel\nasyncpg\nacme-orm-tools==1.0\nsqlalchemy[asyncio]\n"}
    changed, _ = fix(tmp_path / "b", {**files, "requirements.txt": "fastapi\nsqlmodel\nasyncpg\nacme-orm-tools>=1.0\n"},
                     text_rules=[AsyncDriverDependency])
    assert changed == {"requirements.txt": "fastapi\nsqlmodel\nasyncpg\nacme-orm-tools>=1.0\nsqlalchemy[asyncio]>=2.0\n"}
    changed, _ = fix(tmp_path / "c", {**files, "requirements.txt": "fastapi\nsqlmodel\nasyncpg\nfastapi-users-db-sqlmodel==0.2.0\n"},
                     text_rules=[AsyncDriverDependency])
    assert changed == {}


def test_the_driver_the_url_fix_points_at_comes_with_it(tmp_path: Path) -> None:
    """An async engine on a run-time URL, with only aiosqlite listed (the default is SQLite): the platform's
    `postgresql://` reaches the engine, FX004 points it at asyncpg, so asyncpg must install too; aiosqlite is
    no PostgreSQL driver. A project whose own URL names aiosqlite and reads no platform variable keeps its list."""
    from fixer.rules.url_normaliser import RuntimeUrlNormaliser
    from tests.rules.project_helpers import fix

    config = 'import os\nSTORE_URL = os.getenv("DATABASE_URL", "sqlite+aiosqlite:///./local.db")\n'
    db = "from sqlalchemy.ext.asyncio import create_async_engine\nfrom app.config import STORE_URL\n" \
         "engine = create_async_engine(STORE_URL)\n"
    main = "from fastapi import FastAPI\nfrom app.db import engine\napp = FastAPI()\n"
    files = {"app/__init__.py": "", "app/config.py": config, "app/db.py": db, "app/main.py": main,
             "README.md": "Run `uvicorn app.main:app`.\n",
             "requirements.txt": "fastapi\nuvicorn\nsqlmodel\nsqlalchemy[asyncio]\naiosqlite\n"}
    changed, findings = fix(tmp_path / "a", files, codemods=[RuntimeUrlNormaliser], text_rules=[AsyncDriverDependency])
    assert "to_async_database_url(STORE_URL)" in changed["app/db.py"]
    assert changed["requirements.txt"] == "fastapi\nuvicorn\nsqlmodel\nsqlalchemy[asyncio]\nasyncpg>=0.31\naiosqlite\n"
    assert {f.rule for f in findings if f.fixed} == {"FX001", "FX004"}
    # The project's own variable, not one a platform sets, given SQLite: nothing to fix.
    own = {**files, "app/config.py": config.replace('"DATABASE_URL"', '"LOCAL_STORE"')}
    assert fix(tmp_path / "b", own, codemods=[RuntimeUrlNormaliser], text_rules=[AsyncDriverDependency])[0] == {}
