"""The GitHub Action (action.yml) run locally: its shell steps, as GitHub runs them, on a fixture repository.

`gh` is a stub on PATH that records its arguments and answers the two API calls the action makes (the pull
request's files, the review); everything else is real: fixer runs on the seed backend."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "fixtures" / "seed" / "broken" / "backend"

GH_STUB = """#!{python}
import json, os, sys
args = sys.argv[1:]
stdin = sys.stdin.read() if "--input" in args else None
with open(os.environ["GH_STUB_LOG"], "a") as log:
    log.write(json.dumps({{"args": args, "stdin": stdin}}) + "\\n")
if args[:2] == ["api", "--paginate"] and args[2].endswith("/files"):
    sys.stdout.write(open(os.environ["GH_STUB_FILES"]).read())
elif "POST" in args:
    if os.environ.get("GH_STUB_POST_FAILS"):
        sys.stderr.write("HTTP 403: Resource not accessible by integration")
        sys.exit(1)
    print('{{"id": 1}}')
else:
    sys.exit("unexpected gh call")
"""

# What GitHub's "list pull request files" gives (through --jq): the PR touched these lines.
PR_FILES = [
    {"filename": "backend/src/core/database.py", "patch": "@@ -1,5 +1,8 @@\n context"},
    {"filename": "backend/requirements.txt", "patch": "@@ -3,3 +3,4 @@\n context"},
]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(SEED, repo / "backend")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(GH_STUB.format(python=sys.executable))
    (bin_dir / "gh").chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)  # what actions/setup-python puts on PATH
    (tmp_path / "event.json").write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": "f00d"}}}))
    (tmp_path / "files.jsonl").write_text("".join(json.dumps(f) + "\n" for f in PR_FILES))
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


def run_action(workspace: Path, **given: str) -> tuple[int, str, dict[str, str], list[dict]]:
    """The composite's shell steps in order, as the runner would (the setup-python and upload steps are
    GitHub's own actions, and the install step is done: fixer is installed here). Returns the job's exit
    code, what the steps printed, the fixer step's outputs and the gh calls."""
    tmp = workspace.parent
    defaults = {name: str(spec.get("default", "")) for name, spec in
                yaml.safe_load((REPO / "action.yml").read_text())["inputs"].items()}
    inputs = {**defaults, **given}
    env = {**os.environ, "PATH": f"{tmp / 'bin'}{os.pathsep}{os.environ['PATH']}", "GITHUB_EVENT_PATH":
           str(tmp / "event.json"), "GITHUB_REPOSITORY": "octo/shop", "GITHUB_OUTPUT": str(tmp / "output"),
           "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"), "RUNNER_TEMP": str(tmp), "GH_STUB_LOG":
           str(tmp / "gh.log"), "GH_STUB_FILES": str(tmp / "files.jsonl"), "PYTHONPATH": str(REPO)}
    for name in ("output", "gh.log", "summary.md"):
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
            calls = [json.loads(line) for line in (tmp / "gh.log").read_text().splitlines()]
            return done.returncode, printed, outputs, calls
    calls = [json.loads(line) for line in (tmp / "gh.log").read_text().splitlines()]
    return 0, printed, outputs, calls


def test_the_action_installs_fixer_from_its_own_path_and_uploads_sarif_with_codeql() -> None:
    by_name = {step.get("name", step.get("uses")): step for step in steps()}
    assert '"$ACTION_PATH"' in by_name["Install fixer from this action"]["run"]
    assert by_name["Install fixer from this action"]["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert by_name["Upload SARIF"]["uses"].startswith("github/codeql-action/upload-sarif@")
    assert by_name["Run fixer"]["run"] == "python -m fixer.action"


def test_review_posts_suggestions_on_the_changed_lines_and_fails_on_findings(workspace: Path) -> None:
    code, printed, outputs, calls = run_action(workspace, path="backend")
    assert code == 1, printed
    assert outputs["exit-code"] == "1" and int(outputs["findings"]) == 8
    assert calls[0]["args"][:3] == ["api", "--paginate", "repos/octo/shop/pulls/7/files"]
    post = calls[1]
    assert post["args"][:4] == ["api", "--method", "POST", "repos/octo/shop/pulls/7/reviews"]
    review = json.loads(post["stdin"])
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
    assert "npg_Xk7pQ2vLm9Rt" not in post["stdin"]


def test_fail_on_never_passes(workspace: Path) -> None:
    code, printed, outputs, _ = run_action(workspace, path="backend", **{"fail-on": "never"})
    assert code == 0 and outputs["exit-code"] == "0", printed


def test_sarif_mode_writes_the_file_for_the_upload(workspace: Path) -> None:
    code, printed, outputs, calls = run_action(workspace, path="backend", mode="sarif")
    assert code == 1, printed
    sarif = json.loads(Path(outputs["sarif-file"]).read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert [c["args"][2] for c in calls] == ["repos/octo/shop/pulls/7/files"]  # no review posted


def test_annotations_mode_prints_workflow_commands(workspace: Path) -> None:
    code, printed, _, _ = run_action(workspace, path="backend", mode="annotations")
    assert code == 1
    assert "::error file=backend/requirements.txt,line=5,col=1,endLine=5,endColumn=23,title=FX001::" in printed


def test_a_pull_request_outside_the_backend_is_not_run(workspace: Path) -> None:
    (workspace.parent / "files.jsonl").write_text(json.dumps({"filename": "docs/index.md", "patch": ""}) + "\n")
    code, printed, outputs, calls = run_action(workspace, path="backend")
    assert code == 0 and "changes nothing under backend" in printed
    assert len(calls) == 1


def test_a_review_that_cannot_be_posted_falls_back_to_annotations(workspace: Path, monkeypatch) -> None:
    monkeypatch.setenv("GH_STUB_POST_FAILS", "1")
    code, printed, _, _ = run_action(workspace, path="backend")
    assert code == 1
    assert "could not post the review" in printed and "::error file=backend/" in printed
    assert "suggestion" in (workspace.parent / "summary.md").read_text()
