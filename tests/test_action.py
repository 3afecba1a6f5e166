"""The GitHub Action (action.yml) run locally: its shell steps, as GitHub runs them, on a fixture repository.

GitHub's REST API is a stub HTTP server (GITHUB_API_URL) that records each call and answers the ones the action
makes (the pull request's files, its reviews and their comments, posting and updating them); everything else is
real: fixer runs on the seed backend, and the `gh` on PATH fails if it is called."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "fixtures" / "seed" / "broken" / "backend"

# What GitHub's "list pull request files" gives: the PR touched these lines.
PR_FILES = [
    {"filename": "backend/src/core/database.py", "patch": "@@ -1,5 +1,8 @@\n context"},
    {"filename": "backend/requirements.txt", "patch": "@@ -3,3 +3,4 @@\n context"},
]


class FakeGitHub:
    """The API as the action sees it: `files`, `reviews` and `comments` are what GET answers; every call is in
    `calls` as (method, path, body); `read_only` answers every write with 403, as a fork's token gets."""

    def __init__(self) -> None:
        self.files = list(PR_FILES)
        self.reviews: list[dict] = []
        self.comments: dict[int, list[dict]] = {}
        self.calls: list[tuple[str, str, dict | None]] = []
        self.read_only = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def answer(self, status: int, data) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                path = self.path.split("?")[0]
                fake.calls.append((self.command, path, body))
                assert self.headers["Authorization"] == "Bearer token"
                if self.command != "GET" and fake.read_only:
                    return self.answer(403, {"message": "Resource not accessible by integration"})
                if path.endswith("/files"):
                    return self.answer(200, fake.files)
                if self.command == "GET" and path.endswith("/reviews"):
                    return self.answer(200, fake.reviews)
                if self.command == "GET" and "/reviews/" in path:
                    return self.answer(200, fake.comments.get(int(path.split("/")[-2]), []))
                if self.command == "POST" and path.endswith("/reviews"):
                    fake.reviews.append({"id": 100 + len(fake.reviews), "body": body["body"]})
                    return self.answer(200, fake.reviews[-1])
                return self.answer(200, {"id": 1})

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def writes(self) -> list[tuple[str, str, dict | None]]:
        return [call for call in self.calls if call[0] != "GET"]


@pytest.fixture
def github():
    fake = FakeGitHub()
    yield fake
    fake.server.shutdown()


@pytest.fixture
def workspace(tmp_path: Path, github: FakeGitHub) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(SEED, repo / "backend")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # What actions/setup-python puts on PATH: this interpreter, with its packages (a symlink would lose the venv's).
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "python").chmod(0o755)
    (bin_dir / "gh").write_text("#!/bin/sh\necho 'gh is not needed' >&2\nexit 3\n")  # a call would fail the run
    (bin_dir / "gh").chmod(0o755)
    (tmp_path / "event.json").write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": "f00d"}}}))
    return repo


def steps() -> list[dict]:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    return action["runs"]["steps"]


def expand(text: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        expression = match[1].strip()
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        if expression.startswith("steps.fixer.outputs."):
            return outputs.get(expression.removeprefix("steps.fixer.outputs."), "")
        return {"github.token": "token", "github.action_path": str(REPO)}[expression]

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def run_action(workspace: Path, github: FakeGitHub, **given: str) -> tuple[int, str, dict[str, str]]:
    """The composite's shell steps in order, as the runner would (the setup-python and upload steps are
    GitHub's own actions, and the install step is done: fixer is installed here). Returns the job's exit
    code, what the steps printed and the fixer step's outputs."""
    tmp = workspace.parent
    defaults = {name: str(spec.get("default", "")) for name, spec in
                yaml.safe_load((REPO / "action.yml").read_text())["inputs"].items()}
    inputs = {**defaults, "github-token": "token", **given}  # the default, ${{ github.token }}, as the runner gives it
    env = {**os.environ, "PATH": f"{tmp / 'bin'}{os.pathsep}{os.environ['PATH']}", "GITHUB_EVENT_PATH":
           str(tmp / "event.json"), "GITHUB_REPOSITORY": "octo/shop", "GITHUB_OUTPUT": str(tmp / "output"),
           "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"), "RUNNER_TEMP": str(tmp), "GITHUB_API_URL": github.url,
           "PYTHONPATH": str(REPO)}
    for name in ("output", "summary.md"):
        (tmp / name).write_text("")
    printed, outputs = "", {}
    for step in steps():
        if "run" not in step or step.get("name") == "Install fixer from this action":
            continue
        step_env = {key: expand(str(value), inputs, outputs) for key, value in step.get("env", {}).items()}
        done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=workspace, env={**env, **step_env},
                              capture_output=True, text=True, timeout=300)
        printed += done.stdout + done.stderr
        outputs = dict(line.split("=", 1) for line in (tmp / "output").read_text().splitlines())
        if done.returncode != 0:
            return done.returncode, printed, outputs
    return 0, printed, outputs


def test_the_action_installs_fixer_from_its_own_path_and_uploads_sarif_with_codeql() -> None:
    by_name = {step.get("name", step.get("uses")): step for step in steps()}
    assert '"$ACTION_PATH"' in by_name["Install fixer from this action"]["run"]
    assert by_name["Install fixer from this action"]["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert by_name["Upload SARIF"]["uses"].startswith("github/codeql-action/upload-sarif@")
    assert by_name["Run fixer"]["run"] == "python -m fixer.cli.action"


def test_review_posts_suggestions_on_the_changed_lines_and_fails_on_findings(workspace: Path, github) -> None:
    code, printed, outputs = run_action(workspace, github, path="backend")
    assert code == 1, printed
    assert outputs["exit-code"] == "1" and int(outputs["findings"]) == 8
    assert github.calls[0][:2] == ("GET", "/repos/octo/shop/pulls/7/files")
    ((method, where, review),) = github.writes()
    assert (method, where) == ("POST", "/repos/octo/shop/pulls/7/reviews")
    assert review["commit_id"] == "f00d" and review["event"] == "COMMENT"
    placed = {(c["path"], c.get("start_line"), c["line"]) for c in review["comments"]}
    assert placed == {("backend/requirements.txt", None, 5), ("backend/src/core/database.py", 3, 6)}
    requirements = next(c for c in review["comments"] if c["path"] == "backend/requirements.txt")
    assert "```suggestion\nasyncpg>=0.31\n```" in requirements["body"]
    assert all(c["side"] == "RIGHT" for c in review["comments"])
    # Lines the PR did not touch cannot carry a comment: their suggestions are in the body.
    assert "#### `backend/requirements.txt` line 10" in review["body"]
    assert "#### `backend/src/core/database.py` lines 10-11" in review["body"]
    assert "#### `backend/requirements.txt` line 5" not in review["body"]
    assert "npg_Xk7pQ2vLm9Rt" not in json.dumps(review)


def test_a_later_push_updates_the_one_review(workspace: Path, github) -> None:
    run_action(workspace, github, path="backend")
    ((_, _, first),) = github.writes()
    review_id = github.reviews[0]["id"]
    kept = next(c for c in first["comments"] if c["path"] == "backend/requirements.txt")
    # What the first run posted, as GitHub lists it: one comment still right, one stale.
    github.comments[review_id] = [
        {"id": 11, "path": kept["path"], "line": kept["line"], "body": kept["body"]},
        {"id": 12, "path": "backend/src/core/database.py", "line": 2, "body": "an old suggestion"},
    ]
    github.calls.clear()
    code, printed, _ = run_action(workspace, github, path="backend", select="FX001,FX002,FX004", args="--isolated")
    assert code == 1, printed
    writes = github.writes()
    assert writes[0][:2] == ("PUT", f"/repos/octo/shop/pulls/7/reviews/{review_id}")
    assert ("DELETE", "/repos/octo/shop/pulls/comments/12", None) in writes
    added = [body for method, where, body in writes if (method, where) == ("POST", "/repos/octo/shop/pulls/7/comments")]
    assert [c["path"] for c in added] == ["backend/src/core/database.py"] and added[0]["commit_id"] == "f00d"
    assert not any(where.endswith("/reviews") and method == "POST" for method, where, _ in writes)  # no second review
    assert "updated its review: 1 suggestion(s) kept, 1 added, 1 no longer right removed" in printed


def test_inputs_reach_the_run(workspace: Path, github) -> None:
    code, printed, outputs = run_action(workspace, github, path="backend", mode="annotations", select="FX001",
                                        **{"unsafe-fixes": "true"})
    assert code == 1, printed
    assert "title=FX001::" in printed and "title=FX004::" not in printed
    code, printed, outputs = run_action(workspace, github, path="backend", mode="annotations", ignore="FX",
                                        args="--to-async")
    assert code == 0 and outputs["findings"] == "0", printed


def test_fail_on_never_passes(workspace: Path, github) -> None:
    code, printed, outputs = run_action(workspace, github, path="backend", **{"fail-on": "never"})
    assert code == 0 and outputs["exit-code"] == "0", printed


def test_sarif_mode_writes_the_file_for_the_upload(workspace: Path, github) -> None:
    code, printed, outputs = run_action(workspace, github, path="backend", mode="sarif")
    assert code == 1, printed
    sarif = json.loads(Path(outputs["sarif-file"]).read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert [call[1] for call in github.calls] == ["/repos/octo/shop/pulls/7/files"]  # no review posted


def test_annotations_mode_prints_workflow_commands(workspace: Path, github) -> None:
    code, printed, _ = run_action(workspace, github, path="backend", mode="annotations")
    assert code == 1
    assert "::error file=backend/requirements.txt,line=5,col=1,endLine=5,endColumn=23,title=FX001::" in printed


def test_a_pull_request_outside_the_backend_is_not_run(workspace: Path, github) -> None:
    github.files = [{"filename": "docs/index.md", "patch": ""}]
    code, printed, outputs = run_action(workspace, github, path="backend")
    assert code == 0 and "changes nothing under backend" in printed
    assert len(github.calls) == 1


def test_a_read_only_token_falls_back_to_annotations(workspace: Path, github) -> None:
    github.read_only = True
    code, printed, _ = run_action(workspace, github, path="backend")
    assert code == 1
    assert "could not post the review" in printed and "::error file=backend/" in printed
    assert "suggestion" in (workspace.parent / "summary.md").read_text()


def test_a_fork_gets_annotations_without_trying_to_write(workspace: Path, github) -> None:
    fork = {"number": 7, "head": {"sha": "f00d", "repo": {"full_name": "someone/shop"}},
            "base": {"repo": {"full_name": "octo/shop"}}}
    (workspace.parent / "event.json").write_text(json.dumps({"pull_request": fork}))
    code, printed, _ = run_action(workspace, github, path="backend")
    assert code == 1 and "from a fork" in printed and "::error file=backend/" in printed
    assert github.writes() == []
