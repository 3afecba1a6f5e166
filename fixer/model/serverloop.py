"""What the server itself meets before it imports the app: an old uvicorn asks for the current event loop where
none is set, which newer event-loop policies refuse. Read by `fixer.model.startup`, whose install
(`fixer.model.freshinstall`) and CPython (`fixer.model.python`) it takes.

uvicorn before 0.15 starts with `loop = asyncio.get_event_loop()` in `Server.run` (and its gunicorn worker's
`run`), no loop running yet. The policy answering it:
- uvloop's, which uvicorn installs with `--loop auto` (the default) wherever uvloop imports: from uvloop 0.22 its
  own class, whose `get_event_loop` raises instead of creating a loop (0.21 subclassed asyncio's);
- asyncio's own from CPython 3.14, which no longer creates a loop there (a DeprecationWarning in 3.12 and 3.13).
Both raise `RuntimeError: There is no current event loop in thread 'MainThread'.`, before any import of the app.
Which uvicorn gets its loop so, and which uvloop's policy is asyncio's, is read in their wheels (messages.json keys
"server-run-loop" and "policy-subclasses-asyncio").
"""

from __future__ import annotations

import re

from fixer import tables
from fixer.model.entrypoints import StartPoint
from fixer.model.failures import Failure
from fixer.model.freshinstall import Installed

__all__ = ["server_loop_failure"]

# CPython: asyncio's policy no longer creates a loop in get_event_loop. The interpreter's fact, in no wheel.
_ASYNCIO_RAISES_SINCE = (3, 14)
_OTHER_SERVERS = re.compile(r"\b(?:hypercorn|daphne|granian)\b")
_LOOP_OPTION = re.compile(r"--loop[= ](\w+)")


def server_loop_failure(start: StartPoint, have: Installed, python: str, where: tuple[str, int]) -> Failure | None:
    """The failure of the server's start before the app loads, for the documented `start` on the install `have`
    and CPython `python` ("3.14"; "" unknown); None when the server gets its loop. `where`: the file and line the
    report points at (the dependency declaration of uvicorn)."""
    uvicorn = have.version("uvicorn")
    if uvicorn is None or tables.message("uvicorn", uvicorn, "server-run-loop") != "asyncio.get_event_loop" \
            or _OTHER_SERVERS.search(start.command):
        return None
    option = _LOOP_OPTION.search(start.command)
    loop = option.group(1) if option else "auto"
    uvloop = have.version("uvloop") if loop in ("auto", "uvloop") else None
    if python and tuple(int(p) for p in python.split(".")[:2] if p.isdigit()) >= _ASYNCIO_RAISES_SINCE:
        # uvloop's policy before 0.22 is asyncio's with another loop class: it raises there too
        why = f"CPython {python}'s asyncio raises there"
    elif uvloop is not None and not tables.message("uvloop", uvloop, "policy-subclasses-asyncio"):
        why = f"uvloop {uvloop}, which it uses by default, raises there"
    else:
        return None
    fixed = next(v for v in tables.releases_with("uvicorn", "server-run-loop")
                 if v > uvicorn and tables.message("uvicorn", v, "server-run-loop") != "asyncio.get_event_loop")
    return Failure("RuntimeError", "There is no current event loop in thread 'MainThread'.", where[0], where[1],
                   "server-loop", detail=f"uvicorn {uvicorn} asks for the current event loop before it starts one, and "
                                         f"{why}; uvicorn {fixed.major}.{fixed.minor} and later start their own loop")
