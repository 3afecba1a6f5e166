"""What the patch may show: nothing that prints a secret the repository does not already hold.

A password committed in a file git tracks is no new disclosure: the patch shows it as the repository does (it
must, to apply). What git does not track is private to this machine: a `.env`-style file git does not track is
never shown, nor any value read from one (a password, or any value of a key named like a secret) wherever it
appears; and in a file git does not track (every file, outside a git work tree) no password is shown. The patch
leaves out each hunk that would show one and names it; `fixer.output.diff` decides hunk by hunk from what is marked here.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from fixer.rules.findings import FileResult
from fixer.model.urls import holds_secret, passwords_in

# An environment line's key that names a secret: its value is one, whatever it looks like.
_SECRET_KEY = re.compile(r"(?i)(?:secret|token|passw|pwd|credential|api_?key|private_?key|auth)")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)\s*[=:]\s*(?P<value>.*?)\s*$")
_SHORTEST = 6  # shorter values ("true", "5432") are not told apart from ordinary text


def is_env_file(path: str) -> bool:
    name = path.rpartition("/")[2]
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def mark(root: Path, results: Iterable[FileResult]) -> None:
    """Tell each changed result whether git tracks it, and which untracked secrets its hunks must not show."""
    changed = [result for result in results if result.changed]
    if not changed:
        return
    tracked = tracked_files(root)
    secrets = frozenset(_untracked_env_secrets(root, tracked))
    for result in changed:
        result.tracked = result.path in tracked
        result.untracked_secrets = secrets


def tracked_files(root: Path) -> frozenset[str]:
    """The files under `root` git tracks, relative to it; none outside a git work tree (or without git)."""
    try:
        done = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    if done.returncode != 0:
        return frozenset()
    return frozenset(os.fsdecode(path) for path in done.stdout.split(b"\0") if path)


def _untracked_env_secrets(root: Path, tracked: frozenset[str]) -> set[str]:
    from fixer.discover.files import SKIPPED_DIRS

    found: set[str] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        for name in files:
            if not is_env_file(name):  # by its name alone: the path is made only for the few that are
                continue
            rel = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if rel in tracked:
                continue
            try:
                text = Path(folder, name).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            found |= secrets_in_env(text)
    return found


def secrets_in_env(text: str) -> set[str]:
    """The secrets an environment file holds: every password in it, and each value of a key named like one."""
    found = set(passwords_in(text))
    for line in text.splitlines():
        match = _ENV_LINE.match(line)
        if match and _SECRET_KEY.search(match["key"]):
            value = match["value"].strip("'\"")
            if len(value) >= _SHORTEST and not value.startswith("$"):
                found.add(value)
    return found


def shows_secret(line: str, result: FileResult) -> bool:
    """Whether `line` of `result`'s patch would show a secret the repository does not hold: a password where a
    password stands (`:todo@`), or a secret of an untracked env file anywhere it shows (see `_shows`)."""
    if not result.tracked and holds_secret(line):
        return True
    if not result.untracked_secrets:
        return False
    return any(password in result.untracked_secrets for password in passwords_in(line)) or any(
        _shows(secret, line) for secret in result.untracked_secrets)


def _shows(secret: str, line: str) -> bool:
    """Whether `secret` shows in `line` outside a password's place. A short one would be any text. A plain word
    counts as a whole word only (`hide_password` is another name), and not at all when it names a secret
    (`password` in an example's `postgresql://user:password@host`): that placeholder is what ordinary text, the
    helpers fixer writes included ("would hide the password"), also says, and holding those back leaves the patch
    calling a helper it never defines."""
    if len(secret) < _SHORTEST:
        return False
    if not secret.isalpha():
        return secret in line
    return not _SECRET_KEY.search(secret) and re.search(rf"(?<!\w){re.escape(secret)}(?!\w)", line) is not None
