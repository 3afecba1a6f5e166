"""No password in any output: every form a credential takes in a backend is masked like `user:***@host`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fixer.urls import holds_secret, redact
from tests.cli_helpers import fixer

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
    plain = fixer("dry-run", root)
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
    for rel in ("app/db.py", "app/settings.py", "docker-compose.yml", "alembic.ini"):
        assert f"note: {rel}: not in the patch, as its hunks would show a password" in notes, notes
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
