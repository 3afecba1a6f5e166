"""No password in any output: every form a credential takes in a backend is masked like `user:***@host`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from fixer.model.urls import holds_secret, redact
from tests.cli_helpers import fixer, tree

MASKED = [
    ("postgresql://app:s3cret@db/app", "postgresql://app:***@db/app"),
    ("postgresql://db/app?user=u&password=s3cret&sslmode=require", "postgresql://db/app?user=u&password=***&sslmode=require"),
    ("postgresql://db/app?sslpassword=s3cret", "postgresql://db/app?sslpassword=***"),
    ("postgresql://db/app?PASSWORD=s3cret#x", "postgresql://db/app?PASSWORD=***#x"),
    ('DSN = "host=db dbname=app user=u password=s3cret"', 'DSN = "host=db dbname=app user=u password=***"'),
    ("psycopg2.connect('password=s3cret host=db')", "psycopg2.connect('password=*** host=db')"),
    ("dsn = \"dbname=app password='s3 cret' host=db\"", "dsn = \"dbname=app password='***' host=db\""),
    ("PGPASSWORD=s3cret", "PGPASSWORD=***"),
    ("export PGPASSWORD=s3cret", "export PGPASSWORD=***"),
    ("      - POSTGRES_PASSWORD=s3cret", "      - POSTGRES_PASSWORD=***"),
    ("      PGPASSWORD: s3cret", "      PGPASSWORD: ***"),
    ('      POSTGRES_PASSWORD: "s3cret"', '      POSTGRES_PASSWORD: "***"'),
    ('engine = create_async_engine(URL, connect_args={"password": "s3cret"})', 'engine = create_async_engine(URL, connect_args={"password": "***"})'),
    ("connect_args=dict(password='s3cret', ssl=True)", "connect_args=dict(password='***', ssl=True)"),
    ('    db_password: str = "s3cret"', '    db_password: str = "***"'),
    ('URL.create("postgresql", password="s3cret", host="db")', 'URL.create("postgresql", password="***", host="db")'),
]
KEPT = [
    "postgresql://db/app?user=u&sslmode=require",
    "postgresql://app:${DB_PASSWORD}@db/app?password=${PW}",
    "PGPASSWORD=$SECRET",
    'connect_args={"password": os.environ["PW"]}',
    "user = User(email=data.email, hashed_password=hash_password(data.password))",
    "if user is None or not verify_password(password, user.hashed_password):",
    "    hashed_password: str = Field(max_length=255)",
    "    POSTGRES_PASSWORD: str",
    '    @field_validator("password")',
    "    login(form, password=password, remember=True)",
    'f"host={host} password={password}"',
    'detail="Incorrect email or password"',
]


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_every_credential_form_is_masked(text: str, masked: str) -> None:
    assert redact(text) == masked
    assert holds_secret(text) and not holds_secret(masked)


@pytest.mark.parametrize("text", KEPT)
def test_code_and_placeholders_are_not_secrets(text: str) -> None:
    assert redact(text) == text and not holds_secret(text)


SECRET = "s3cret"
BACKEND = {
    ".env": (
        "DATABASE_URL=postgresql://db/app?user=u&password=s3cret-env-query&sslmode=require\n"
        "PGPASSWORD=s3cret-env-pgpassword\n"
    ),
    "docker-compose.yml": (
        "services:\n"
        "  api:\n"
        "    build: .\n"
        "    environment:\n"
        "      DATABASE_URL: postgresql://db/app?user=u&password=s3cret-compose-query&sslpassword=s3cret-compose-ssl\n"
        "      PGPASSWORD: s3cret-compose-pgpassword\n"
        "  worker:\n"
        "    build: .\n"
        "    environment:\n"
        "      - POSTGRES_PASSWORD=s3cret-compose-list\n"
        "      - DATABASE_URL=postgres://db/app?user=u&password=s3cret-compose-list-query\n"
    ),
    "alembic.ini": (
        "[alembic]\n"
        "script_location = migrations\n"
        "sqlalchemy.url = postgresql://db/app?user=u&password=s3cret-alembic-query&sslmode=require\n"
    ),
    "app/db.py": (
        "import os\n"
        "from sqlalchemy import AsyncEngine\n"
        "from sqlalchemy.ext.asyncio import create_async_engine\n"
        "\n"
        'DSN = "host=db dbname=app user=u password=s3cret-py-dsn"\n'
        'URL = os.getenv("DATABASE_URL", "postgresql://db/app?user=u&password=s3cret-py-query")\n'
        'engine: AsyncEngine = create_async_engine(URL, connect_args={"password": "s3cret-py-connect"})\n'
    ),
    "app/settings.py": (
        "from pydantic_settings import BaseSettings\n"
        "\n"
        "class Settings(BaseSettings):\n"
        '    DATABASE_URL: str = "postgresql://db/app?user=u&password=s3cret-settings-query"\n'
        '    PGPASSWORD: str = "s3cret-settings-pgpassword"\n'
    ),
    "app/plain.py": "from sqlalchemy import AsyncEngine\n",  # nothing secret: its fix stays in the patch
    "requirements.txt": "fastapi\nsqlmodel\npsycopg2-binary\n",
}


def test_no_output_shows_a_planted_password(tmp_path: Path) -> None:
    root = tmp_path / "backend"
    for rel, text in BACKEND.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)

    outputs: dict[str, bytes] = {}
    plain = fixer("dry-run", root, "--root-relative")
    verbose = fixer("dry-run", root, "-v", "--report", tmp_path / "dry.json", "--plan", tmp_path / "plan.json")
    applied = fixer("apply", copy, "-v", "--report", tmp_path / "apply.json")
    for name, result in (("dry-run", plain), ("dry-run -v", verbose), ("apply -v", applied)):
        outputs[f"{name} stdout"], outputs[f"{name} stderr"] = result.stdout, result.stderr
    for report in ("dry.json", "apply.json", "plan.json"):
        outputs[report] = (tmp_path / report).read_bytes()
    for name, data in outputs.items():
        assert SECRET.encode() not in data, f"{name} shows a password:\n{data.decode(errors='replace')}"

    assert plain.returncode == 1 and applied.returncode in (0, 1), applied.stderr
    # Every file was fixed by apply, and the dry-run held back each file that would show a password, saying so.
    assert (copy / "app" / "plain.py").read_text() == "from sqlalchemy.ext.asyncio import AsyncEngine\n"
    assert "postgresql+asyncpg://" in (copy / "docker-compose.yml").read_text()
    assert b"+++ b/app/plain.py" in plain.stdout and b"+++ b/requirements.txt" in plain.stdout
    notes = plain.stderr.decode()
    for rel in ("app/db.py", "app/settings.py", "docker-compose.yml", "alembic.ini"):  # no git: none is tracked
        assert re.search(rf"^note: {re.escape(rel)}:[\d-]+: a change not in the patch, as it would show a password",
                         notes, re.M), notes
    assert "note: .env: " in notes
    report = json.loads(outputs["dry.json"])
    assert any("password=***" in issue["exact_fix"]["old_code"] for issue in report["issues"])


def test_verify_masks_a_database_url_password_given_in_its_query() -> None:
    from fixer.verify.run import _Secrets

    secrets = _Secrets()
    secrets.add_url("postgresql://db/app?user=u&password=s3cret-query&sslpassword=s3cret-key")
    # asyncpg's own messages may quote the bare value, outside any URL.
    log = "connect failed: password authentication (s3cret-query), key s3cret-key; url postgresql://db/app?password=s3cret-query"
    assert SECRET not in secrets(log)


def _git(root: Path, *args: str) -> None:
    import subprocess

    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=root, check=True,
                   capture_output=True)


def _committed(root: Path) -> None:
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "the backend as it is")


def test_in_a_git_repository_every_changed_file_of_the_todo_fixture_is_in_the_patch(tmp_path: Path) -> None:
    """Its dev-default URLs (`todo:todo@localhost`) are committed: showing them discloses nothing new."""
    import subprocess

    root = Path(shutil.copytree(Path(__file__).parent.parent / "fixtures" / "todo" / "broken", tmp_path / "todo"))
    _committed(root)
    applied = Path(shutil.copytree(root, tmp_path / "applied"))
    assert fixer("apply", applied).returncode in (0, 1)
    changed = sorted(rel for rel in tree(applied) if tree(applied)[rel] != tree(root).get(rel))
    done = fixer("dry-run", root)
    assert done.returncode == 1 and len(changed) == 5, done.stderr
    assert sorted(line[6:].decode() for line in done.stdout.splitlines() if line.startswith(b"+++ b/")) == changed
    assert b"not in the patch" not in done.stderr and b"not shown" not in done.stderr, done.stderr
    subprocess.run(["git", "apply", "-"], cwd=root, input=done.stdout, check=True)
    assert tree(root) == tree(applied)


UNTRACKED = "s3cret-only-in-dotenv"
COMMITTED = "committed-dev-password"


def _backend_with_an_untracked_env(root: Path) -> None:
    (root / "app").mkdir(parents=True)
    (root / "requirements.txt").write_text("fastapi\nsqlmodel\nasyncpg\n")
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "db.py").write_text(
        "import os\n"
        "from sqlalchemy import AsyncEngine\n"
        "from sqlalchemy.ext.asyncio import create_async_engine\n"
        + "\n" * 8 +
        f'DEV_URL = "postgresql+asyncpg://dev:{COMMITTED}@localhost/dev"\n'
        + "\n" * 8 +
        f'URL = os.getenv("DATABASE_URL", "postgresql://app:{UNTRACKED}@db/app")\n'
        "engine: AsyncEngine = create_async_engine(URL)\n"
    )
    (root / ".gitignore").write_text(".env\n")
    _committed(root)
    (root / ".env").write_text(f"DATABASE_URL=postgresql://app:{UNTRACKED}@db/app\n")


def test_only_the_hunk_that_would_show_an_untracked_secret_is_left_out(tmp_path: Path) -> None:
    import subprocess

    root = tmp_path / "b"
    _backend_with_an_untracked_env(root)
    applied = Path(shutil.copytree(root, tmp_path / "applied"))
    fixer("apply", applied)
    done = fixer("dry-run", root)
    assert done.returncode == 1, done.stderr
    assert UNTRACKED.encode() not in done.stdout + done.stderr
    assert b"+from sqlalchemy.ext.asyncio import AsyncEngine" in done.stdout  # the other hunk of the same file
    notes = [line for line in done.stderr.decode().splitlines() if "not in the patch" in line]
    assert notes == ["note: app/db.py:21-22: a change not in the patch, as it would show a password or secret git does "
                     "not track; `fixer apply` writes it"], done.stderr
    assert (applied / "app" / "db.py").read_text().count("postgresql+asyncpg://app:") == 1  # apply writes it
    subprocess.run(["git", "apply", "-"], cwd=root, input=done.stdout, check=True)
    patched = (root / "app" / "db.py").read_text()
    assert "from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine" in patched or (
        "from sqlalchemy.ext.asyncio import AsyncEngine\n" in patched)
    assert f'"postgresql://app:{UNTRACKED}@db/app"' in patched  # the left-out change, not made


def test_apply_with_a_plan_never_writes_what_the_patch_did_not_show(tmp_path: Path) -> None:
    import subprocess

    root = tmp_path / "b"
    _backend_with_an_untracked_env(root)
    reviewed = Path(shutil.copytree(root, tmp_path / "reviewed"))
    done = fixer("dry-run", root, "--plan", tmp_path / "plan.json")
    subprocess.run(["git", "apply", "-"], cwd=reviewed, input=done.stdout, check=True)
    planned = fixer("apply", root, "--plan", tmp_path / "plan.json")
    assert planned.returncode in (0, 1), planned.stderr
    assert b"are not written with --plan" in planned.stderr
    assert tree(root) == tree(reviewed)  # exactly the reviewed bytes, .env untouched
