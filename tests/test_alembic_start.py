"""The migration step of the documented start (issue 23): `alembic upgrade head` runs env.py before the server,
with the URL the platform injects. fixer finds the step where people write it (a README at the repository's
top that goes into the backend first, in a copy without `.git`), follows the URL env.py puts into alembic's
config (through a sys.path edit spelled `Path(__file__).parent.parent / "src"` held in a name, and a cleaner
that runs before `config.set_main_option`), and FX004 wraps that URL where an async engine built from
alembic's config fails on it. The fixture is fixtures/defects/alembic-env-async-config-url (before/after and
the second run: test_defect_fixtures); here the prediction, what is left alone, and the step run for real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fixer.apply import runner
from fixer.discover.files import discover
from fixer.model.migrations import documented_migration
from tests.cli_helpers import fixer
from fixer.verify.backend import ensure_venv
from tests.pg_helpers import forget_migrations
from tests.test_e2e_seed import venv_cache_dir, with_platform_query

CASE = Path(__file__).resolve().parent.parent / "fixtures" / "defects" / "alembic-env-async-config-url"


def _first(backend: Path) -> tuple[str, str]:
    prediction = runner.run(backend, codemods=[], text_rules=[], jobs=1).facts.startup.primary
    assert prediction is not None
    failure = prediction.failures[0] if prediction.failures else None
    return (str(failure), failure.path) if failure else ("ok", "")


def _migration(backend: Path):
    paths = list(discover(backend, []))
    return documented_migration(backend, paths, lambda p: (backend / p).read_text())


def _nested(tmp_path: Path, readme: str) -> Path:
    """The fixture two folders below a repository top (no `.git`, as a downloaded archive) whose README holds
    `readme`; the backend's own README documents nothing."""
    backend = Path(shutil.copytree(CASE / "before", tmp_path / "repo" / "phase-2" / "backend"))
    (backend / "README.md").write_text("# Tasks API\n")
    (tmp_path / "repo" / "README.md").write_text(readme)
    return backend


def test_a_readme_at_the_top_that_goes_into_the_backend_documents_its_migration(tmp_path: Path) -> None:
    backend = _nested(tmp_path, "## Backend\n\n```bash\ncd phase-2/backend\npip install -r requirements.txt\n"
                                "alembic upgrade head\nuvicorn app.main:app\n```\n")
    found = _migration(backend)
    assert found is not None and found.where == ("../../README.md", 6)
    assert _first(backend) == ("ModuleNotFoundError: No module named 'psycopg2'", "migrations/env.py")


def test_a_migration_run_in_another_folder_is_not_this_backends(tmp_path: Path) -> None:
    backend = _nested(tmp_path, "```bash\ncd phase-1/backend\nalembic upgrade head\n```\n\n"
                                "```bash\ncd phase-2/backend\nuvicorn app.main:app\n```\n")
    assert _migration(backend) is None


def test_the_url_env_py_cleans_before_alembic_reads_it_is_the_one_predicted(tmp_path: Path) -> None:
    """env.py puts src/ on sys.path through a name, cleans the URL in an `if`, then sets it: the engine gets the
    cleaned URL (a sync engine on SQLAlchemy 2.0 loads psycopg2, which the project does not list)."""
    project = Path(shutil.copytree(CASE / "before", tmp_path / "p"))
    (project / "src").mkdir()
    shutil.move(project / "app", project / "src" / "app")
    env = project / "migrations" / "env.py"
    env.write_text(env.read_text().replace(
        'from alembic import context\n',
        'import os\nimport sys\nfrom pathlib import Path\n\nfrom alembic import context\n\n'
        'source = Path(__file__).parent.parent / "src"\nsys.path.insert(0, str(source))\n',
    ).replace(
        'config.set_main_option("sqlalchemy.url", settings.database_url)\n',
        'url = os.getenv("DATABASE_URL")\nif url:\n    url = url.replace("postgresql+asyncpg://", "postgresql://")\n'
        '    config.set_main_option("sqlalchemy.url", url)\n',
    ).replace("async_engine_from_config", "engine_from_config"))
    (project / "README.md").write_text("```bash\nalembic upgrade head\nPYTHONPATH=src uvicorn app.main:app\n```\n")
    assert _first(project) == ("ModuleNotFoundError: No module named 'psycopg2'", "migrations/env.py")


def test_an_async_branch_the_start_does_not_run_is_left_alone(tmp_path: Path) -> None:
    """The async engine sits behind a switch that is off by default: `alembic upgrade head` runs the sync
    branch, so nothing fails where the async engine reads its URL and FX004 does not touch env.py."""
    project = Path(shutil.copytree(CASE / "before", tmp_path / "p"))
    env = project / "migrations" / "env.py"
    text = env.read_text().replace(
        'config.set_main_option("sqlalchemy.url", settings.database_url)\n', ""
    ).replace(
        "    connectable = async_engine_from_config(\n",
        '    section = config.get_section(config.config_ini_section, {})\n'
        '    section["sqlalchemy.url"] = settings.database_url\n'
        "    connectable = async_engine_from_config(\n",
    ).replace("        config.get_section(config.config_ini_section, {}), prefix", "        section, prefix").replace(
        "    asyncio.run(run_async_migrations())\n",
        '    if os.getenv("MIGRATE_ASYNC") == "1":\n        asyncio.run(run_async_migrations())\n',
    ).replace("import asyncio\n", "import asyncio\nimport os\n")
    env.write_text(text)
    before = env.read_bytes()
    fixer("apply", project)
    assert env.read_bytes() == before


@pytest.mark.slow
def test_the_async_migration_fails_before_and_runs_after_apply(tmp_path: Path, database_url: str) -> None:
    """`alembic upgrade head` with the platform-style URL on a real PostgreSQL, as the fresh install of the
    fixture gives it (SQLAlchemy 2.0, asyncpg): it fails as predicted, and creates the table after apply."""
    project = Path(shutil.copytree(CASE / "before", tmp_path / "p"))
    python = ensure_venv(project / "requirements.txt", venv_cache_dir())
    forget_migrations(python, database_url, "tasks")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""),
           "DATABASE_URL": with_platform_query(database_url)}

    def upgrade() -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(python), "-m", "alembic", "upgrade", "head"], cwd=project, env=env,
                              capture_output=True, text=True, timeout=300)

    before = upgrade()
    assert before.returncode != 0 and "No module named 'psycopg2'" in before.stderr, before.stderr
    assert fixer("apply", project).returncode == 0
    after = upgrade()
    assert after.returncode == 0, after.stderr
    check = subprocess.run(
        [str(python), "-c", "import asyncio, asyncpg, os\n"
                            "async def main():\n"
                            "    c = await asyncpg.connect(os.environ['DATABASE_URL'].split('?')[0])\n"
                            "    print(await c.fetchval(\"select to_regclass('public.tasks')::text\"))\n"
                            "asyncio.run(main())"],
        env=env, capture_output=True, text=True, timeout=60)
    assert check.stdout.strip() == "tasks", check.stderr


@pytest.mark.parametrize("listed", ["rich-toolkit>=0.14", "openai-chatkit>=1.0"])
def test_a_plugin_of_an_unrecorded_framework_brings_no_database_driver(tmp_path: Path, listed: str) -> None:
    """A distribution whose requirements fixer does not know may bring many things, but not a PostgreSQL
    driver the project does not name: the migration's missing psycopg is still predicted."""
    project = Path(shutil.copytree(CASE / "before", tmp_path / "p"))
    requirements = project / "requirements.txt"
    requirements.write_text(requirements.read_text().replace("sqlalchemy[asyncio]>=2.0,<2.1", "sqlalchemy[asyncio]>=2.1")
                            + f"psycopg2-binary>=2.9\n{listed}\n")
    env = project / "migrations" / "env.py"
    env.write_text(env.read_text().replace("async_engine_from_config", "engine_from_config"))
    assert _first(project) == ("ModuleNotFoundError: No module named 'psycopg'", "migrations/env.py")


def test_a_cleaner_in_env_py_that_glues_the_query_onto_the_database_is_predicted(tmp_path: Path) -> None:
    """env.py cuts `sslmode=...` out with its `?`: the platform URL's `&channel_binding=require` lands in the
    database name, and alembic's connection fails there (the app's own engines never connect during it)."""
    project = Path(shutil.copytree(CASE / "before", tmp_path / "p"))
    requirements = project / "requirements.txt"
    requirements.write_text(requirements.read_text() + "psycopg2-binary>=2.9\n")
    env = project / "migrations" / "env.py"
    env.write_text(env.read_text().replace("async_engine_from_config", "engine_from_config").replace(
        'config.set_main_option("sqlalchemy.url", settings.database_url)\n',
        'import re\n\nurl = re.sub(r"[?&]sslmode=[^&]+", "", settings.database_url)\n'
        'config.set_main_option("sqlalchemy.url", url)\n',
    ))
    assert _first(project) == (
        'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) database "db&channel_binding=require" '
        "does not exist", "migrations/env.py")


def test_the_exec_form_of_a_compose_command_documents_the_migration(tmp_path: Path) -> None:
    backend = Path(shutil.copytree(CASE / "before", tmp_path / "backend"))
    (backend / "README.md").write_text("# Tasks API\n\n    uvicorn app.main:app\n")
    (backend / "docker-compose.yml").write_text(
        'services:\n  migrate:\n    build: .\n    command: ["alembic", "upgrade", "head"]\n')
    found = _migration(backend)
    assert found is not None and found.where == ("docker-compose.yml", 4)


def _wrapped_engine_in(project: Path, folder: str) -> None:
    """env.py builds its engine as `AsyncEngine(engine_from_config(...))`, in a scripts folder named `folder`
    (a name no convention says is alembic's), which alembic.ini's script_location names."""
    if folder != "migrations":
        shutil.move(project / "migrations", project / folder)
        ini = project / "alembic.ini"
        ini.write_text(ini.read_text().replace("script_location = migrations", f"script_location = {folder}"))
    env = project / folder / "env.py"
    env.write_text(env.read_text().replace(
        "from sqlalchemy.ext.asyncio import async_engine_from_config\n",
        "from sqlalchemy import engine_from_config\nfrom sqlalchemy.ext.asyncio import AsyncEngine\n",
    ).replace(
        "    connectable = async_engine_from_config(\n"
        "        config.get_section(config.config_ini_section, {}), prefix=\"sqlalchemy.\", poolclass=pool.NullPool\n"
        "    )\n",
        "    connectable = AsyncEngine(\n        engine_from_config(\n"
        "            config.get_section(config.config_ini_section, {}), prefix=\"sqlalchemy.\", poolclass=pool.NullPool\n"
        "        )\n    )\n",
    ))


@pytest.mark.parametrize("folder", ["migrations", "db_scripts"])
def test_an_async_engine_wrapped_around_engine_from_config_gets_the_url_fix(tmp_path: Path, folder: str) -> None:
    """The URL env.py puts into alembic's config reaches `AsyncEngine(engine_from_config(...))` as it reaches
    `async_engine_from_config`: FX004 wraps it there, in a scripts folder of any name (alembic.ini names it, so
    its files are the migration's, not dead code)."""
    from tests.rules.project_helpers import fix
    from fixer.rules.url_normaliser import RuntimeUrlNormaliser

    project = Path(shutil.copytree(CASE / "before", tmp_path / "p"))
    _wrapped_engine_in(project, folder)
    assert _first(project)[1] == f"{folder}/env.py"
    changed, findings = fix(project, {}, codemods=[RuntimeUrlNormaliser])
    assert 'config.set_main_option("sqlalchemy.url", to_async_database_url(settings.database_url))' \
        in changed[f"{folder}/env.py"]
    assert {(f.rule, f.fixed, f.safe) for f in findings} == {("FX004", True, True)}
    assert _first(project)[0] == "ok"
