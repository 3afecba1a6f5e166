"""The patch: git-applicable, deterministic, and never showing a password."""

from __future__ import annotations

import codecs
import shutil
import subprocess
from pathlib import Path

import pytest

from fixer.apply.changes import shown
from fixer.output.diff import patch
from fixer.rules.findings import FileResult
from tests.cli_helpers import fixer

OLD = (
    "from sqlalchemy import AsyncEngine\n"
    "import os\n\n\n\n\n\n\n\n"
    'URL = "postgresql://app:hunter2@db/app"\n'
)
NEW = (
    "from sqlalchemy.ext.asyncio import AsyncEngine\n"
    "import os\n\n\n\n\n\n\n\n"
    'URL = "postgresql+asyncpg://app:hunter2@db/app"\n'
)


def test_only_the_hunk_that_would_show_an_untracked_password_is_left_out() -> None:
    text, notes = patch(FileResult(path="db.py", old=OLD.encode(), new=NEW.encode()))
    assert b"+from sqlalchemy.ext.asyncio import AsyncEngine\n" in text and b"hunter2" not in text
    assert notes == ["db.py:10: a change not in the patch, as it would show a password or secret git does not "
                     "track; `fixer apply` writes it"]
    assert shown(FileResult(path="db.py", old=OLD.encode(), new=NEW.encode())) == NEW.replace("+asyncpg", "").encode()


def test_a_password_committed_in_a_tracked_file_is_shown_as_the_repository_holds_it() -> None:
    text, notes = patch(FileResult(path="db.py", old=OLD.encode(), new=NEW.encode(), tracked=True))
    assert notes == [] and b'+URL = "postgresql+asyncpg://app:hunter2@db/app"\n' in text


def test_a_value_of_an_untracked_env_file_is_not_shown_even_in_a_tracked_file() -> None:
    result = FileResult(path="db.py", old=OLD.encode(), new=NEW.encode(), tracked=True,
                        untracked_secrets=frozenset({"hunter2"}))
    text, notes = patch(result)
    assert b"hunter2" not in text and len(notes) == 1


def test_a_password_on_an_unchanged_context_line_holds_the_file_back_too() -> None:
    old = 'URL = "postgresql://app:hunter2@db/app"\nfrom sqlalchemy import AsyncEngine\n'
    new = 'URL = "postgresql://app:hunter2@db/app"\nfrom sqlalchemy.ext.asyncio import AsyncEngine\n'
    text, notes = patch(FileResult(path="db.py", old=old.encode(), new=new.encode()))
    assert text == b"" and "hunter2" not in "".join(notes)


def test_a_password_far_from_the_changes_does_not_hold_the_file_back(tmp_path: Path) -> None:
    text, notes = patch(FileResult(path="db.py", old=OLD.encode(), new=NEW.replace("+asyncpg", "").encode()))
    assert notes == [] and b"hunter2" not in text
    (tmp_path / "db.py").write_text(OLD)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=text, check=True)
    assert (tmp_path / "db.py").read_text() == NEW.replace("+asyncpg", "")


def test_env_files_git_does_not_track_are_never_shown_even_without_a_password() -> None:
    for path in (".env", "deploy/.env.production", "prod.env"):
        old, new = b"A=1\nDATABASE_URL=postgres://h/db\n", b"A=1\nDATABASE_URL=postgresql+asyncpg://h/db\n"
        text, notes = patch(FileResult(path=path, old=old, new=new))
        assert text == b""
        assert notes == [f"{path}: 1 line(s) would change (credentials file git does not track: not shown; "
                         "`fixer apply` writes it)"]
        text, notes = patch(FileResult(path=path, old=old, new=new, tracked=True))  # committed: no secret of this machine
        assert b"+DATABASE_URL=postgresql+asyncpg://h/db\n" in text and notes == []


def test_line_separators_other_than_newline_stay_inside_their_line(tmp_path: Path) -> None:
    old = "x = 'a\x0cb\u2028c'\nfrom sqlalchemy import AsyncEngine\n"
    new = "x = 'a\x0cb\u2028c'\nfrom sqlalchemy.ext.asyncio import AsyncEngine\n"
    text, _ = patch(FileResult(path="m.py", old=old.encode(), new=new.encode()))
    (tmp_path / "m.py").write_text(old, newline="")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=text, check=True)
    assert (tmp_path / "m.py").read_bytes() == new.encode()


def _apply(old: list[str], hunks: list[str]) -> list[str]:
    """The new lines, from the old ones and a unified diff of them (as `patch` would)."""
    import re

    out, at = [], 0
    for line in hunks[2:]:
        header = re.match(r"@@ -(\d+)(?:,(\d+))? ", line)
        if header:
            start = int(header.group(1)) - (0 if header.group(2) == "0" else 1)
            out, at = out + old[at:start], start
        elif line[0] == " ":
            out, at = out + [line[1:]], at + 1
        elif line[0] == "-":
            at += 1
        else:
            out.append(line[1:])
    return out + old[at:]


def test_hunks_rebuild_the_new_file_whatever_the_edits() -> None:
    import random

    from fixer.output.diff import _unified

    rng = random.Random(13)
    for _ in range(2000):
        vocabulary = [f"line {k}\n" for k in range(rng.randrange(1, 12))]  # few distinct lines: many repeats
        old = [rng.choice(vocabulary) for _ in range(rng.randrange(0, 40))]
        new = list(old)
        for _ in range(rng.randrange(0, 6)):
            at = rng.randrange(len(new) + 1)
            edit = rng.randrange(3)
            if edit == 0 and at < len(new):
                new[at] = rng.choice([*vocabulary, "changed\n"])
            elif edit == 1:
                new.insert(at, rng.choice([*vocabulary, "inserted\n"]))
            elif at < len(new):
                del new[at]
        hunks = _unified(old, new, "f.py")
        assert _apply(old, hunks) == new
        assert (hunks == []) == (old == new)


def test_a_large_module_fixed_all_through_gives_a_patch_git_applies(tmp_path: Path) -> None:
    # Thousands of changes spread over a long file: the case where a plain SequenceMatcher goes quadratic.
    blocks = [f"engine_{n} = create_engine(URL_{n % 7})\n\n\ndef get_{n}():\n    return engine_{n}\n\n\n" for n in range(3000)]
    old = "from sqlmodel import create_engine\n\n\n" + "".join(blocks)
    new = old.replace("create_engine", "create_async_engine")
    text, notes = patch(FileResult(path="big.py", old=old.encode(), new=new.encode()))
    assert notes == []
    (tmp_path / "big.py").write_text(old)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=text, check=True)
    assert (tmp_path / "big.py").read_text() == new


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_a_requirements_file_saved_as_utf16_is_fixed_in_its_encoding_and_the_patch_applies(
    tmp_path: Path, encoding: str
) -> None:
    """PowerShell's `pip freeze > requirements.txt` writes UTF-16 with a BOM, which pip reads: fixer reads it too,
    writes it back in its encoding, and shows it as `git diff --binary` does (a line diff of it would not apply)."""
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE, "utf-32-le": codecs.BOM_UTF32_LE}
    project = tmp_path / "project"
    shutil.copytree(Path(__file__).parent.parent / "fixtures/seed/broken/backend", project)
    text = (project / "requirements.txt").read_text().replace("\n", "\r\n")
    old = bom[encoding] + text.encode(encoding)
    (project / "requirements.txt").write_bytes(old)
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)

    dry = fixer("dry-run", "--root-relative", project)
    assert b"GIT binary patch" in dry.stdout, dry.stderr.decode()
    assert b"skipped" not in dry.stderr
    subprocess.run(["git", "apply", "-"], cwd=copy, input=dry.stdout, check=True)

    fixer("apply", project)
    new = (project / "requirements.txt").read_bytes()
    assert new == (copy / "requirements.txt").read_bytes() != old
    assert new.startswith(bom[encoding])
    lines = new[len(bom[encoding]):].decode(encoding).split("\r\n")
    assert lines[:4] == text.split("\r\n")[:4]  # the lines fixer does not fix stay as they were
    assert "psycopg2-binary>=2.9.9" not in lines and "sqlalchemy[asyncio]>=2.0" in lines
    assert fixer("dry-run", project).stdout == b""  # a second run changes nothing


HELPER_OLD = "import os\n\nengine = create_engine(os.environ['DATABASE_URL'])\n"
HELPER_NEW = (
    "import os\n\n\ndef to_psycopg2_database_url(url: str) -> str:\n"
    '    """str(url) would hide the password."""\n'
    "    return make_url(url).render_as_string(hide_password=False)\n\n\n"
    "engine = create_engine(to_psycopg2_database_url(os.environ['DATABASE_URL']))\n"
)


def test_a_placeholder_word_from_an_untracked_example_does_not_hold_back_a_helper() -> None:
    # `.env.example` (untracked outside git) shows `postgresql://user:password@host/db`: the word "password" is
    # no secret where it stands as a word, and holding the helper back left the patch calling it undefined.
    result = FileResult(path="db.py", old=HELPER_OLD.encode(), new=HELPER_NEW.encode(), tracked=True,
                        untracked_secrets=frozenset({"password", "your-shared-secret-here"}))
    text, notes = patch(result)
    assert notes == [] and b"+def to_psycopg2_database_url" in text and b"hide_password=False" in text


@pytest.mark.parametrize(
    "line",
    ['URL = "postgresql://app:supersecret@db/app"\n',  # a word-like password, where a password stands
     'KEY = "sk-live-4f9a2c71"\n'],  # a token, anywhere
)
def test_an_untracked_secret_is_still_held_back(line: str) -> None:
    old, new = "import os\n" + line, "import sys\n" + line
    result = FileResult(path="db.py", old=old.encode(), new=new.encode(), tracked=True,
                        untracked_secrets=frozenset({"supersecret", "sk-live-4f9a2c71"}))
    text, notes = patch(result)
    assert text == b"" and len(notes) == 1


@pytest.mark.parametrize(
    ("line", "held"),
    [('FALLBACK = "correcthorsebatterystaple"\n', True),  # an all-letter secret, as a whole word
     ("metric = correcthorsebatterystaple_total\n", False),  # part of a longer identifier: another name
     ('# set the password in .env\n', False)],  # a value that only names a secret: the example's placeholder
)
def test_an_all_letter_secret_is_held_back_as_a_whole_word(line: str, held: bool) -> None:
    # SECRET_KEY=correcthorsebatterystaple in an untracked .env, the hunk in a file git does not track either
    old, new = "import os\n" + line, "import sys\n" + line
    result = FileResult(path="settings.py", old=old.encode(), new=new.encode(), tracked=False,
                        untracked_secrets=frozenset({"correcthorsebatterystaple", "password"}))
    text, notes = patch(result)
    assert (text == b"" and len(notes) == 1) if held else (b"+import sys" in text and notes == [])
