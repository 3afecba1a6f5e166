"""Shared fixtures: a real PostgreSQL server for end-to-end tests (never skipped)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from fixer.verify.postgres import throwaway_postgres  # noqa: E402


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """$FIXER_TEST_DATABASE_URL, else a throwaway server; fails (not skips) when neither is available."""
    url = os.environ.get("FIXER_TEST_DATABASE_URL")
    if url:
        yield url
        return
    with throwaway_postgres() as server:  # raises PostgresNotAvailable with install hints: the test errors
        print(f"\nthrowaway PostgreSQL: {server.version} ({server.kind}, {server.bin_dir})")
        yield server.url

