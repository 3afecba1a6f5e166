"""FX047 (issue 23): a project's own regex that removes `?sslmode=...` together with the `?` glues the rest of the
platform's query onto the database name, and the documented `alembic upgrade head` fails connecting. fixer runs
the cleaner on the platform URL, predicts the failure, rewrites the pattern so the parameter goes with its own
`&`, and leaves alone the cleaners that keep the URL whole. The real migration runs after the fix.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fixer.rules.url_cleaner import rewritten
from tests.cli_helpers import fixer, tree
from tests.pg_helpers import forget_migrations
from tests.test_alembic_migration_needs import _failures, _project
from tests.test_e2e_seed import venv_cache_dir, with_platform_query
from fixer.verify.backend import ensure_venv

import libcst as cst

_GLUED = ("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) database \"db&channel_binding=require\" does "
          "not exist", "migrations/env.py")


def _cleaning(tmp_path: Path, pattern: str) -> Path:
    backend = _project(tmp_path, url="url")
    env = backend / "migrations" / "env.py"
    env.write_text(env.read_text().replace("import os\n", "import os\nimport re\n").replace(
        "config = context.config\n",
        f'config = context.config\nurl = re.sub({pattern}, "", os.environ["DATABASE_URL"])\n'))
    return backend


def test_a_cleaner_that_takes_the_question_mark_is_fixed_once(tmp_path: Path) -> None:
    backend = _cleaning(tmp_path, 'r"[?&]sslmode=[^&]+"')
    assert _failures(backend) == [_GLUED]
    done = fixer("apply", backend)
    assert done.returncode == 0, done.stderr.decode()
    text = (backend / "migrations" / "env.py").read_text()
    assert 'url = re.sub(r"(?<=[?&])sslmode=[^&]+&?", "", os.environ["DATABASE_URL"])\n' in text
    compile(text, "env.py", "exec")
    assert _failures(backend) == []
    written = tree(backend)
    assert fixer("apply", backend).returncode == 0 and tree(backend) == written


@pytest.mark.parametrize("pattern", [
    'r"[?&]channel_binding=[^&]+"',  # the platform URL stays whole: sslmode keeps its `?`
    'r"(?<=[?&])sslmode=[^&]+&?"',  # already right
    '"sslmode=require"',  # another shape: left to a person
])
def test_cleaners_that_keep_the_url_whole_or_have_another_shape_are_left_alone(tmp_path: Path, pattern: str) -> None:
    backend = _cleaning(tmp_path, pattern)
    before = tree(backend)
    fixer("apply", backend)
    assert tree(backend) == before


@pytest.mark.parametrize("literal, expected", [
    ('r"[?&]sslmode=[^&]+"', 'r"(?<=[?&])sslmode=[^&]+&?"'),
    ("'[&?]sslmode=[^&]*'", "'(?<=[?&])sslmode=[^&]*&?'"),
    ('"[\\\\?&]sslmode=[^&]+"', '"(?<=[?&])sslmode=[^&]+&?"'),
    ('r"[?&]channel_binding=[^&]+"', None),
    ('r"[?&]sslmode=[^&]+|[?&]x=1"', None),
])
def test_the_pattern_is_rewritten_only_where_the_old_one_corrupts_and_the_new_one_does_not(literal: str,
                                                                                           expected: str | None) -> None:
    new = rewritten(cst.parse_expression(literal))
    assert (new.value if new is not None else None) == expected


@pytest.mark.slow
def test_the_real_migration_fails_on_the_cleaned_url_and_runs_after_apply(tmp_path: Path, database_url: str) -> None:
    backend = _cleaning(tmp_path, 'r"[?&]sslmode=[^&]+"')
    python = ensure_venv(backend / "requirements.txt", venv_cache_dir())
    forget_migrations(python, database_url, "needs_shelves")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""),
           "DATABASE_URL": with_platform_query(database_url)}

    def upgrade() -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(python), "-m", "alembic", "upgrade", "head"], cwd=backend, env=env,
                              capture_output=True, text=True, timeout=300)

    before = upgrade()
    assert before.returncode != 0 and '&channel_binding=prefer" does not exist' in before.stderr, before.stderr
    assert fixer("apply", backend).returncode == 0
    after = upgrade()
    assert after.returncode == 0, after.stderr
