"""What users install and paste: the package metadata, the sdist, the pre-commit hooks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import fixer
from fixer.discover.config import read_toml

REPO = Path(__file__).parent.parent
PYPROJECT = read_toml((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_metadata_names_one_homepage_and_the_pythons_it_supports() -> None:
    assert all(url.startswith(fixer.HOMEPAGE) for url in PYPROJECT["urls"].values())
    assert fixer.rule_doc_url("FX004") == f"{fixer.HOMEPAGE}/blob/main/docs/rules/FX004.md"
    pythons = sorted(c.rsplit(" ", 1)[1] for c in PYPROJECT["classifiers"] if re.fullmatch(r".*Python :: 3\.\d+", c))
    assert pythons == ["3.10", "3.11", "3.12", "3.13"]
    assert PYPROJECT["requires-python"] == ">=3.10"
    assert "MIT License" in (REPO / "LICENSE").read_text()


def test_the_changelog_has_a_section_for_this_version() -> None:
    assert f"## [{fixer.__version__}]" in (REPO / "CHANGELOG.md").read_text()


def test_readme_pre_commit_snippet_names_fixer_and_the_hook_ids() -> None:
    import yaml  # pre-commit's own dependency

    readme = (REPO / "README.md").read_text()
    snippet = re.search(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", readme, re.S).group(1)
    config = yaml.safe_load(snippet)
    repo = config["repos"][0]
    # A tag that exists (none is made yet: releases are not tagged) or the branch the hooks live on.
    tags = subprocess.run(["git", "tag"], cwd=REPO, capture_output=True, text=True).stdout.split()
    assert repo["repo"] == fixer.HOMEPAGE and repo["rev"] in (*tags, "main")
    hooks = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert {hook["id"] for hook in repo["hooks"]} <= hooks


def test_the_hooks_get_the_files_the_rules_read() -> None:
    import yaml

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        assert hook["pass_filenames"] is True
        files = re.compile(hook["files"])
        for path in ("app/db.py", "requirements.txt", "backend/requirements-dev.txt", "requirements/base.txt",
                     "pyproject.toml", ".env", "backend/.env.production", "alembic.ini", "docker-compose.yml",
                     "compose.yaml"):
            assert files.search(path), (hook["id"], path)
        for path in ("README.md", "app/static/main.js", "Dockerfile", "envs.py.txt"):
            assert not files.search(path), (hook["id"], path)


def git_files(*folders: str) -> set[str]:
    listed = subprocess.run(["git", "ls-files", *folders], cwd=REPO, capture_output=True, text=True, check=True)
    return set(listed.stdout.split())


@pytest.mark.slow
def test_the_sdist_carries_what_its_tests_need(tmp_path: Path) -> None:
    pytest.importorskip("build")
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout (an unpacked sdist): nothing to compare with")
    subprocess.run([sys.executable, "-m", "build", "--sdist", "-o", str(tmp_path), str(REPO)],
                   check=True, capture_output=True, timeout=600)
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    wanted = git_files("tests", "fixtures", "docs", "tools", "fixer") | {"LICENSE", "CHANGELOG.md", "README.md",
                                                                        ".pre-commit-hooks.yaml"}
    assert wanted - members == set()


@pytest.mark.slow
def test_pre_commit_try_repo_runs_the_hooks_on_the_changed_files(tmp_path: Path) -> None:
    """`pre-commit try-repo` installs this repository's hooks (as a user's config would) and runs them on
    the files of a commit: the check fails on the broken backend, the fix hook fixes only what was given."""
    pytest.importorskip("pre_commit")
    project = tmp_path / "project"
    shutil.copytree(REPO / "fixtures" / "seed" / "broken", project)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=project, env=env, capture_output=True, text=True, timeout=900)

    run("git", "init", "-q", ".")
    run("git", "add", "-A")
    assert run("git", "commit", "-q", "-m", "broken backend").returncode == 0
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO)]
    database = "backend/src/core/database.py"
    check = run(*pre_commit, "fixer-check", "--files", database, "backend/README.md")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "+++ b/backend/src/core/database.py" in check.stdout  # relative to where the hook runs, as ruff's
    assert "requirements.txt" not in check.stdout  # not given: not reported
    before = (project / "backend/requirements.txt").read_bytes()
    fixed = run(*pre_commit, "fixer", "--files", database)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in fixed.stdout
    assert "create_async_engine(" in (project / database).read_text()
    assert (project / "backend/requirements.txt").read_bytes() == before
    again = run(*pre_commit, "fixer-check", "--files", database)
    assert again.returncode == 0, again.stdout + again.stderr
