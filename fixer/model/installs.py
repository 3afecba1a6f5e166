"""The requirements files the project documents installing on their own: `pip install -r requirements.txt` in a
Dockerfile, a README or another markdown file, a shell script or a Procfile. What such a file lacks is missing from that install, however
many other dependency files (a pyproject.toml, a lock) declare it.

A documented command runs in the folder of the file that documents it, moved by the `cd` before it (`cd backend
&& pip install -r requirements.txt`, or a `cd backend` line above it in the same README block); a Dockerfile's
`-r` path is read against its build context (the folder it sits in), as `COPY requirements.txt .` lays it out.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterable

# Any markdown file counts: the install is often written in a CONTRIBUTING.md or an agent's CLAUDE.md.
_DOCUMENTS = re.compile(r"^(Dockerfile[\w.-]*|[\w.-]*\.Dockerfile|Procfile|README[\w.-]*|[\w.-]+\.(md|rst)|[\w.-]+\.sh|Makefile)$", re.I)
_INSTALL = re.compile(r"\bpip3?\s+install\b|\buv\s+pip\s+install\b")
_CD = re.compile(r"(?:^|&&|;)\s*cd\s+([^\s&;|]+)")


def documented(read_text: Callable[[str], str | None], paths: Iterable[str]) -> dict[str, str]:
    """Requirements file -> the file that documents `pip install -r` of it."""
    paths = list(paths)
    known = set(paths)
    found: dict[str, str] = {}
    for path in paths:
        if not _DOCUMENTS.match(posixpath.basename(path)):
            continue
        text = read_text(path)
        if not text or "install" not in text:
            continue
        here = posixpath.dirname(path)
        cwd = here
        for line in re.sub(r"\\\s*\n", " ", text).splitlines():
            if line.startswith("```"):
                cwd = here  # a README's next code block starts where the reader is
            for moved in _CD.findall(line):
                cwd = posixpath.normpath(posixpath.join(cwd, moved)) if not moved.startswith(("/", "~", "$")) else cwd
            install = _INSTALL.search(line)
            if install is None:
                continue
            try:
                words = shlex.split(line[install.end() :], comments=True)
            except ValueError:
                continue
            for flag, value in zip(words, words[1:]):
                if flag in ("-r", "--requirement"):
                    target = posixpath.normpath(posixpath.join(cwd, value)).removeprefix("./")
                    if target in known:
                        found.setdefault(target, path)
    return found
