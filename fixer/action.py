"""The GitHub Action's logic (`action.yml` runs `python -m fixer.action`): fixer on a pull request's backend.

Inputs come as the action passes them, in the environment: INPUT_PATH (the backend folder), INPUT_MODE
(review: a review whose comments are one-click suggestions; sarif: a SARIF file for code scanning;
annotations: workflow commands), INPUT_FAIL_ON (findings | never). GitHub is reached only through the `gh`
command (`gh api`), authenticated by GH_TOKEN. The verdict is written to $GITHUB_OUTPUT as `exit-code`, so
that a SARIF upload still runs before the job fails.

GitHub accepts a review comment only on lines the pull request's diff shows. A suggestion on such lines is
posted on them; the others go into the review's body, where they read as blocks to copy.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from fixer.output import collect, render
from fixer.output import markdown
from fixer.output.markdown import Suggestion, suggestions
from fixer.output.options import display_prefix

MODES = ("review", "sarif", "annotations")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)


class ActionError(Exception):
    pass


def gh(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(["gh", *args], input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise ActionError(f"gh {' '.join(args[:3])} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def right_side_ranges(patch: str) -> list[range]:
    """The lines of the new file that a file's PR patch shows (each hunk's `+start,count`)."""
    return [range(int(start), int(start) + int(count or 1)) for start, count in _HUNK.findall(patch)]


def changed_files(repository: str, number: int) -> dict[str, list[range]]:
    """Every file the pull request changes, with the lines of it that review comments may be put on."""
    out = gh("api", "--paginate", f"repos/{repository}/pulls/{number}/files",
             "--jq", ".[] | {filename: .filename, patch: (.patch // \"\")}")
    files = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {f["filename"]: right_side_ranges(f["patch"]) for f in files}


def commentable(suggestion: Suggestion, shown: dict[str, list[range]]) -> bool:
    return any(
        suggestion.start_line in lines and suggestion.line in lines for lines in shown.get(suggestion.path, [])
    )


def review_payload(diagnostics, shown: dict[str, list[range]], commit: str) -> dict:
    made, _ = suggestions(diagnostics)
    inline = [s for s in made if commentable(s, shown)]
    comments = []
    for s in inline:
        comment = {"path": s.path, "body": s.body(), "line": s.line, "side": "RIGHT"}
        if s.start_line != s.line:
            comment.update(start_line=s.start_line, start_side="RIGHT")
        comments.append(comment)
    body = markdown.render(diagnostics, inline=frozenset(inline))
    return {"commit_id": commit, "event": "COMMENT", "body": body, "comments": comments}


def _set_output(name: str, value: str) -> None:
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(f"{name}={value}\n")


def _summary(text: str) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(text)


def main() -> int:
    from fixer.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_PENDING, _run, _unfixed  # the CLI's own run and verdict

    path = Path(os.environ.get("INPUT_PATH") or ".")
    mode = os.environ.get("INPUT_MODE") or "review"
    fail_on = os.environ.get("INPUT_FAIL_ON") or "findings"
    if mode not in MODES or fail_on not in ("findings", "never"):
        print(f"fixer: error: mode must be one of {', '.join(MODES)} and fail-on findings or never", file=sys.stderr)
        _set_output("exit-code", str(EXIT_ERROR))
        return EXIT_ERROR
    event = json.loads(Path(os.environ["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8")) \
        if os.environ.get("GITHUB_EVENT_PATH") else {}
    pull = event.get("pull_request") or {}
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    prefix = display_prefix(path)

    shown: dict[str, list[range]] = {}
    if pull:
        shown = changed_files(repository, pull["number"])
        if not any(name == prefix or name.startswith(f"{prefix}/") or not prefix for name in shown):
            print(f"fixer: the pull request changes nothing under {path}; not run")
            _set_output("exit-code", str(EXIT_CLEAN))
            return EXIT_CLEAN
    elif mode == "review":
        mode = "annotations"  # no pull request to review (a push): say it where the run is shown

    # verbose=True: every finding keeps its line (the outputs place it), as the CLI does for --output-format.
    outcome = _run(path, (), (), None, None, True, applied=False)
    pending = any(r.changed for r in outcome.results) or _unfixed(outcome)
    code = EXIT_PENDING if pending else EXIT_CLEAN
    diagnostics = collect(outcome.results, applied=False, prefix=prefix)
    _set_output("findings", str(len(diagnostics.items)))
    if mode == "sarif":
        target = Path(os.environ.get("RUNNER_TEMP") or ".") / "fixer.sarif"
        target.write_text(render("sarif", diagnostics), encoding="utf-8")
        _set_output("sarif-file", str(target))
    elif mode == "annotations":
        sys.stdout.write(render("github", diagnostics))
    elif diagnostics.items or diagnostics.skipped:
        payload = review_payload(diagnostics, shown, pull["head"]["sha"])
        try:
            gh("api", "--method", "POST", f"repos/{repository}/pulls/{pull['number']}/reviews", "--input", "-",
               stdin=json.dumps(payload))
            print(f"fixer: posted a review with {len(payload['comments'])} suggestion(s) on the changed lines")
        except ActionError as error:  # a fork's read-only token: say it in the run instead
            print(f"fixer: could not post the review ({error}); the annotations and the job summary have it")
            sys.stdout.write(render("github", diagnostics))
    if mode != "annotations":
        _summary(render("markdown", diagnostics))
    verdict = code if fail_on == "findings" else EXIT_CLEAN
    _set_output("exit-code", str(verdict))
    return EXIT_CLEAN


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # the verdict step fails the job: exit code 2, whatever fail-on says
        print(f"fixer: error: {type(error).__name__}: {error}", file=sys.stderr)
        _set_output("exit-code", "2")
        sys.exit(2)
