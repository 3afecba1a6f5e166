"""Paths on the command line: files, folders, `-` (stdin); the project root found from them; .gitignore files
read from the repository's top, so the folder named does not change the answer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import fixer, tree

SEED = Path(__file__).parent.parent / "fixtures" / "seed" / "broken"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The seed backend in a git repository whose top-level .gitignore leaves out `.env` files."""
    shutil.copytree(SEED, tmp_path / "repo")
    root = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("# secrets\n\n.env\n")
    return root


def changed_files(patch: bytes) -> list[str]:
    return [line[len("+++ b/") :] for line in patch.decode().splitlines() if line.startswith("+++ b/")]


def test_a_single_file_is_fixed_with_the_whole_project_in_view(repo: Path) -> None:
    backend = repo / "backend"
    done = fixer("dry-run", "src/core/database.py", cwd=backend)
    assert done.returncode == 1, done.stderr
    assert changed_files(done.stdout) == ["src/core/database.py"]  # only the file named
    # The model saw the project: the engine is judged async (requirements, config) and its URL normalised.
    assert b"create_async_engine(to_async_database_url(settings.DATABASE_URL)" in done.stdout
    assert b"Directory" not in done.stderr


def test_files_and_folders_mix_and_the_root_is_the_project(repo: Path) -> None:
    done = fixer("dry-run", "backend/src/core", "backend/requirements.txt", cwd=repo)
    assert changed_files(done.stdout) == ["backend/requirements.txt", "backend/src/core/database.py"]
    assert b"scanned 6 file(s)" in done.stderr  # the named ones: src/core/*.py and requirements.txt


def test_apply_of_named_files_writes_only_those(repo: Path) -> None:
    backend = repo / "backend"
    before = tree(backend)
    done = fixer("apply", "requirements.txt", cwd=backend)
    assert done.returncode == 0, done.stderr
    after = tree(backend)
    assert [name for name in after if after[name] != before[name]] == ["requirements.txt"]


def test_stdin_dry_run_prints_the_patch_and_apply_prints_the_fixed_input(repo: Path) -> None:
    backend = repo / "backend"
    source = (backend / "src/core/database.py").read_bytes()
    args = [sys.executable, "-m", "fixer"]
    patch = subprocess.run([*args, "dry-run", "-", "--stdin-filename", "src/core/database.py"],
                           input=source, cwd=backend, capture_output=True, timeout=120)
    assert patch.returncode == 1, patch.stderr
    assert changed_files(patch.stdout) == ["src/core/database.py"]
    fixed = subprocess.run([*args, "apply", "-", "--stdin-filename", "src/core/database.py"],
                           input=source, cwd=backend, capture_output=True, timeout=120)
    assert fixed.returncode == 0, fixed.stderr
    assert b"create_async_engine(" in fixed.stdout and fixed.stdout != source
    assert (backend / "src/core/database.py").read_bytes() == source  # nothing written
    compile(fixed.stdout, "database.py", "exec")
    unchanged = subprocess.run([*args, "apply", "-", "--stdin-filename", "src/core/database.py"],
                               input=fixed.stdout, cwd=backend, capture_output=True, timeout=120)
    assert unchanged.stdout == fixed.stdout


def test_stdin_cannot_be_mixed_with_paths(repo: Path) -> None:
    done = fixer("dry-run", "-", "backend", cwd=repo)
    assert done.returncode == 2
    assert b"cannot be mixed" in done.stderr


def test_the_answer_is_the_same_whatever_folder_is_named(repo: Path) -> None:
    top = fixer("dry-run", ".", cwd=repo)
    sub = fixer("dry-run", ".", cwd=repo / "backend")
    named = fixer("dry-run", "backend", "--root-relative", cwd=repo)
    assert sub.stdout == named.stdout  # the backend's own root either way
    # From the repository's top the same fixes (the model's first-party packages are the top's, so an added
    # import may sit in another isort section: the count is compared, not the bytes).
    assert changed_files(top.stdout) == ["backend/" + name for name in changed_files(sub.stdout)]
    assert top.stderr.splitlines()[-1] == sub.stderr.splitlines()[-1]
    assert b".env" not in sub.stdout  # ignored by the repository's top-level .gitignore
    assert b"fixer: .env is ignored (../.gitignore:3); FX004 would change it; name it to fix it" in sub.stderr
    assert b"fixer: backend/.env is ignored (.gitignore:3); FX004 would change it" in top.stderr


def test_an_ignored_file_named_explicitly_is_fixed_unless_force_exclude(repo: Path) -> None:
    backend = repo / "backend"
    named = fixer("dry-run", ".env", cwd=backend)
    assert named.returncode == 1
    assert b"Would fix 1 issue(s) in 1 file(s)" in named.stderr  # a credentials file: the patch is not shown
    assert b"is ignored" not in named.stderr
    forced = fixer("dry-run", "--force-exclude", ".env", cwd=backend)
    assert forced.returncode == 0 and b"Nothing to fix" in forced.stderr


def test_an_excluded_file_named_explicitly_is_fixed_unless_force_exclude(repo: Path) -> None:
    backend = repo / "backend"
    (backend / "pyproject.toml").write_text('[tool.fixer]\nexclude = ["src/core/"]\n')
    assert fixer("dry-run", ".", cwd=backend).stdout.count(b"+++ b/src/core/") == 0
    assert changed_files(fixer("dry-run", "src/core/database.py", cwd=backend).stdout) == ["src/core/database.py"]
    assert fixer("dry-run", "--force-exclude", "src/core/database.py", cwd=backend).stdout == b""


def test_a_nested_gitignore_applies_to_its_folder(repo: Path) -> None:
    (repo / ".gitignore").write_text("")
    (repo / "backend" / "src" / ".gitignore").write_text("core/config.py\n")
    done = fixer("dry-run", ".", cwd=repo / "backend")
    assert "src/core/config.py" not in changed_files(done.stdout)
    assert b"src/core/config.py" not in done.stderr or b"is ignored" not in done.stderr  # a .py file: not run
    assert "src/core/database.py" in changed_files(done.stdout)


def test_model_accepts_a_file(repo: Path) -> None:
    done = fixer("model", "backend/src/core/database.py", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert b"src/core/database.py" in done.stdout


def test_a_named_folder_under_an_exclude_is_fixed_beside_a_named_file(repo: Path) -> None:
    backend = repo / "backend"
    (backend / "pyproject.toml").write_text('[tool.fixer]\nexclude = ["src/core/"]\n')
    done = fixer("dry-run", "src/core", "requirements.txt", cwd=backend)
    assert changed_files(done.stdout) == ["requirements.txt", "src/core/database.py"]
    forced = fixer("dry-run", "--force-exclude", "src/core", "requirements.txt", cwd=backend)
    assert changed_files(forced.stdout) == ["requirements.txt"]


def test_a_folder_inside_a_project_is_judged_with_the_project(repo: Path) -> None:
    done = fixer("dry-run", "src", cwd=repo / "backend")
    assert changed_files(done.stdout) == ["src/core/database.py"]  # the requirements tell FX002 the engine is async


def test_a_folder_holding_a_project_is_the_root(tmp_path: Path) -> None:
    shutil.copytree(SEED, tmp_path / "examples")  # examples/backend/requirements.txt; no git, nothing above
    done = fixer("dry-run", "examples", cwd=tmp_path)
    assert "examples/backend/src/core/database.py" in changed_files(done.stdout)


def test_a_backend_in_an_ignored_folder_is_read_when_named(repo: Path) -> None:
    """A pattern above the named folder that covers the folder itself (a checkout under `vendor/`, the bench's
    corpora) does not empty the run: as with excludes, it only prunes what lies below; `.env` stays ignored."""
    (repo / ".gitignore").write_text("# secrets\n\n.env\nbackend/\n")
    named = fixer("dry-run", "backend", "--root-relative", cwd=repo)
    assert changed_files(named.stdout) == ["requirements.txt", "src/core/database.py"], named.stderr
    assert b"fixer: .env is ignored (.gitignore:3); FX004 would change it" in named.stderr
    assert b"backend" not in fixer("dry-run", ".", cwd=repo).stdout  # from the top, the folder is left out
