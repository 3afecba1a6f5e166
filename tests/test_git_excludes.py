"""git's other ignore files are honoured as git honours them: `.git/info/exclude` and core.excludesFile."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from fixer.discover.files import discover


def _git(*args: str, cwd: Path, home: Path) -> str:
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for rel in ("app/main.py", "app/local.py", "backend/app/db.py", "backend/scratch/notes.py", "keep.py", "draft.py"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("x = 1\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def test_info_exclude_and_the_global_excludes_file_leave_out_what_git_does(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    (home / ".config" / "git").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repo = _repo(tmp_path)
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("# local\napp/local.py\nscratch/\n")
    (home / ".config" / "git" / "ignore").write_text("draft.py\n")  # git's default global excludes file
    ignored: list[tuple[str, str]] = []
    found = sorted(discover(repo, ignored=ignored))
    assert found == ["app/main.py", "backend/app/db.py", "keep.py"]
    assert dict(ignored)["app/local.py"].endswith(".git/info/exclude:2")  # named with the deciding line
    # git agrees on every file.
    listed = _git("ls-files", "--others", "--exclude-standard", cwd=repo, home=home).split()
    assert sorted(listed) == found
    # A subfolder named alone keeps the repository's excludes (patterns relative to the top).
    assert list(discover(repo / "backend")) == ["app/db.py"]
    # A .gitignore beats info/exclude: `!` brings the file back, as in git.
    (repo / ".gitignore").write_text("!app/local.py\n")
    assert "app/local.py" in list(discover(repo))
    assert "app/local.py" in _git("ls-files", "--others", "--exclude-standard", cwd=repo, home=home).split()


def test_core_excludes_file_from_git_config(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    (home / "my-ignores").write_text("keep.py\n")
    (home / ".gitconfig").write_text("[core]\n\texcludesFile = ~/my-ignores\n")
    repo = _repo(tmp_path)
    found = sorted(discover(repo))
    assert "keep.py" not in found and "draft.py" in found
    assert sorted(_git("ls-files", "--others", "--exclude-standard", cwd=repo, home=home).split()) == found
