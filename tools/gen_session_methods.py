#!/usr/bin/env python3
"""Regenerate fixer/data/session_methods.json from the real AsyncSession classes.

    python -m venv /tmp/s && /tmp/s/bin/pip install sqlmodel greenlet
    /tmp/s/bin/python tools/gen_session_methods.py

Records, for sqlmodel's and SQLAlchemy's AsyncSession, the public methods that return a coroutine (to be
awaited) and the public methods that do not (an `await` on them fails), with the versions read.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fixer" / "data" / "session_methods.json"


def _methods(cls: type) -> tuple[list[str], list[str]]:
    coroutines, plain = [], []
    for name, value in inspect.getmembers(cls):
        if name.startswith("_") or not callable(value) or isinstance(value, type):
            continue
        wrapped = inspect.unwrap(value)
        (coroutines if inspect.iscoroutinefunction(wrapped) else plain).append(name)
    return sorted(coroutines), sorted(plain)


def main() -> None:
    import sqlalchemy
    import sqlmodel
    from sqlalchemy.ext.asyncio import AsyncSession as SqlalchemyAsyncSession
    from sqlmodel.ext.asyncio.session import AsyncSession as SqlmodelAsyncSession

    classes = {}
    for key, cls in (("sqlalchemy.ext.asyncio.AsyncSession", SqlalchemyAsyncSession),
                     ("sqlmodel.ext.asyncio.session.AsyncSession", SqlmodelAsyncSession)):
        coroutines, plain = _methods(cls)
        classes[key] = {"coroutines": coroutines, "sync": plain}
    data = {"versions": {"sqlalchemy": sqlalchemy.__version__, "sqlmodel": sqlmodel.__version__}, "classes": classes}
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
