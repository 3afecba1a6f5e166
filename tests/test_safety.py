"""What fixer must never do: crash on one bad file, write what did not change, write outside the root,
lose an encoding, a BOM, line endings or a mode, or leave a half-written file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cli_helpers import fixer, tree

BAD_IMPORT = "from sqlalchemy import AsyncEngine\n"
GOOD_IMPORT = "from sqlalchemy.ext.asyncio import AsyncEngine\n"


def test_a_file_that_does_not_parse_is_reported_and_the_rest_fixed(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("from sqlalchemy import AsyncEngine\ndef (:\n")
    (tmp_path / "undecodable.py").write_bytes(b"from sqlalchemy import AsyncEngine\nx = '\xff\xfe'\n")
    (tmp_path / "good.py").write_text(BAD_IMPORT)
    result = fixer("apply", tmp_path, "--root-relative")
    assert result.returncode == 1  # the skipped files are left for a person
    assert (tmp_path / "good.py").read_text() == GOOD_IMPORT
    assert (tmp_path / "broken.py").read_text().startswith(BAD_IMPORT)
    stderr = result.stderr.decode()
    assert "skipped broken.py: cannot parse: invalid syntax (line 2)" in stderr
    assert "skipped undecodable.py: cannot decode: not UTF-8 (invalid start byte at byte 40)" in stderr
    assert "Traceback" not in stderr


def test_encoding_cookie_bom_crlf_and_mode_survive(tmp_path: Path) -> None:
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\n" + BAD_IMPORT.encode() + b"NAME = 'caf\xe9'\n")
    bom_crlf = tmp_path / "bom.py"
    bom_crlf.write_bytes(b"\xef\xbb\xbf" + BAD_IMPORT.replace("\n", "\r\n").encode() + b"x = 1\r\n")
    bom_crlf.chmod(0o755)

    patch = fixer("dry-run", tmp_path)
    assert patch.returncode == 1
    assert b" NAME = 'caf\xe9'\n" in patch.stdout  # context lines stay in the file's own encoding
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path.parent / "p.patch").write_bytes(patch.stdout)
    subprocess.run(["git", "apply", "--check", str(tmp_path.parent / "p.patch")], cwd=tmp_path, check=True)

    assert fixer("apply", tmp_path).returncode == 0
    assert latin.read_bytes() == b"# -*- coding: latin-1 -*-\n" + GOOD_IMPORT.encode() + b"NAME = 'caf\xe9'\n"
    assert bom_crlf.read_bytes() == b"\xef\xbb\xbf" + GOOD_IMPORT.replace("\n", "\r\n").encode() + b"x = 1\r\n"
    assert bom_crlf.stat().st_mode & 0o777 == 0o755
    assert [p.name for p in tmp_path.iterdir() if "fixer-tmp" in p.name] == []


def test_files_without_changes_are_not_rewritten(tmp_path: Path) -> None:
    (tmp_path / "fixme.py").write_text(BAD_IMPORT)
    untouched = tmp_path / "ok.py"
    untouched.write_text(GOOD_IMPORT + "from sqlmodel.ext.asyncio.session import AsyncSession\n")
    os.utime(untouched, (1_000_000, 1_000_000))
    assert fixer("apply", tmp_path).returncode == 0
    assert untouched.stat().st_mtime == 1_000_000


def test_never_writes_through_a_link_outside_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "db.py").write_text(BAD_IMPORT)
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked.py").symlink_to(outside / "db.py")
    (root / "linked_dir").symlink_to(outside, target_is_directory=True)
    result = fixer("apply", root)
    assert result.returncode == 0
    assert (outside / "db.py").read_text() == BAD_IMPORT


def test_gitignored_files_and_environments_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("generated/\n*.bak.py\n")
    for rel in ("generated/db.py", "old.bak.py", "venv2/lib/db.py", "node_modules/x/db.py", "build/db.py"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BAD_IMPORT)
    (tmp_path / "venv2" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".gitignore").write_text("local_*.py\n")
    (tmp_path / "app" / "local_db.py").write_text(BAD_IMPORT)
    (tmp_path / "app" / "db.py").write_text(BAD_IMPORT)
    before = tree(tmp_path)

    result = fixer("apply", tmp_path)
    assert result.returncode == 0
    after = tree(tmp_path)
    changed = sorted(rel for rel in before if before[rel] != after[rel])
    assert changed == ["app/db.py"]


def test_patch_applies_for_files_without_final_newline(tmp_path: Path) -> None:
    (tmp_path / "db.py").write_text("import os\n" + BAD_IMPORT.rstrip("\n"))
    (tmp_path / "requirements.txt").write_text("sqlmodel\npsycopg2-binary")
    patch = fixer("dry-run", tmp_path).stdout
    assert b"\\ No newline at end of file" in patch
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=patch, check=True)
    assert (tmp_path / "db.py").read_text() == "import os\n" + GOOD_IMPORT.rstrip("\n")
    assert fixer("dry-run", tmp_path).returncode == 0
