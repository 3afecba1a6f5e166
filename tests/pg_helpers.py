"""The shared test server as a migration test must find it: no revision or table another test's migrations left."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_DROP = """\
import asyncio, sys
url, tables = sys.argv[1], sys.argv[2:]
statement = "DROP TABLE IF EXISTS " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"
try:
    import psycopg
except ImportError:
    psycopg = None
try:
    import psycopg2
except ImportError:
    psycopg2 = None
if psycopg is None and psycopg2 is not None:
    connection = psycopg2.connect(url)
    connection.autocommit = True
    connection.cursor().execute(statement)
    connection.close()
elif psycopg is None:
    import asyncpg

    async def main():
        connection = await asyncpg.connect(url)
        await connection.execute(statement)
        await connection.close()

    asyncio.run(main())
else:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)
"""


def forget_migrations(python: Path, database_url: str, *tables: str) -> None:
    """Drop alembic's revision table and `tables`, with the driver the backend's virtualenv (`python`) has:
    fixer's test environment installs no PostgreSQL driver. alembic records the revision it reached in the
    database, so a test migrating after another would meet a revision its own scripts do not know."""
    parts = urlsplit(database_url)
    plain = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
    done = subprocess.run([str(python), "-c", _DROP, plain, "alembic_version", *tables],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
