"""Project facts: what the whole tree says about its database layer, read with text checks only.

Rules need project-wide answers (is the code moving to an async engine? does anything still need
psycopg2? is sqlmodel's `.exec` used?) that no single file can give. The runner gathers them from the
candidate Python files before any codemod runs, so that every rule decides from the same facts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

_ASYNC_DB = re.compile(
    rb"\b(create_async_engine|AsyncEngine|AsyncSession|async_sessionmaker|async_engine_from_config)\b"
    rb"|async\s+with\s+\w+\.begin\(\)|await\s+\w+\.dispose\(\)"
)
_PSYCOPG2_IMPORT = re.compile(rb"^\s*(?:import|from)\s+psycopg2\b", re.MULTILINE)
_SYNC_ENGINE = re.compile(rb"\b(?:create_engine|engine_from_config)\s*\(")
_EXEC = re.compile(rb"\.exec\s*\(")
# A file none of these match adds nothing to the facts: the runner need not keep it.
FACT_PATTERNS: tuple[re.Pattern[bytes], ...] = (_ASYNC_DB, _PSYCOPG2_IMPORT, _SYNC_ENGINE, _EXEC)


@dataclass(frozen=True)
class ProjectModel:
    async_db: bool = False  # the code uses, or is half-way moved to, SQLAlchemy's asyncio layer
    sqlmodel_exec: bool = False  # some session calls sqlmodel's `.exec`, which only sqlmodel's AsyncSession has
    sync_driver_users: tuple[str, ...] = ()  # files that still need psycopg2 (direct imports, sync engines)

    @classmethod
    def gather(cls, python_files: Iterable[tuple[str, bytes]]) -> ProjectModel:
        async_db = sqlmodel_exec = False
        sync_users: list[str] = []
        for path, source in python_files:
            file_async = bool(_ASYNC_DB.search(source))
            async_db = async_db or file_async
            sqlmodel_exec = sqlmodel_exec or bool(_EXEC.search(source))
            if _PSYCOPG2_IMPORT.search(source) or (_SYNC_ENGINE.search(source) and not file_async):
                sync_users.append(path)
        return cls(async_db=async_db, sqlmodel_exec=sqlmodel_exec, sync_driver_users=tuple(sorted(sync_users)))
