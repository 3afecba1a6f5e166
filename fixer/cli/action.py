"""The GitHub Action's logic (`action.yml` runs `python -m fixer.cli.action`): fixer on a pull request's backend.

Inputs come as the action passes them, in the environment: INPUT_PATH (the backend folder), INPUT_MODE
(review: a review whose comments are one-click suggestions; sarif: a SARIF file for code scanning;
annotations: workflow commands), INPUT_FAIL_ON (findings | never), INPUT_SELECT, INPUT_IGNORE,
INPUT_UNSAFE_FIXES (true | false) and INPUT_ARGS (more `fixer dry-run` options). GitHub's REST API is called
directly (GITHUB_API_URL, authenticated by GITHUB_TOKEN): no `gh` needs to be installed. The verdict is written to
$GITHUB_OUTPUT as `exit-code`, so that a SARIF upload still runs before the job fails.

One review per pull request: the first run posts it (its body carries a marker); later pushes update that
review's body and its suggestion comments (the ones still right are kept, the stale ones deleted, new ones
added) instead of stacking a review per push. A pull request from a fork gets a read-only token: the run
then prints annotations and writes the job summary, and does not fail on the API.

GitHub accepts a review comment only on lines the pull request's diff shows. A suggestion on such lines is
posted on them; the others go into the review's body, where they read as blocks to copy.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import urllib.error
import urllib.request
from pathlib import Path

from fixer.output.formats import collect, render
from fixer.output import markdown
from fixer.output.markdown import Suggestion, suggestions
from fixer.output.options import display_prefix

MODES = ("review", "sarif", "annotations")
MARKER = "<!-- fixer: one review per pull request, updated on each push -->"
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class ActionError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def read_only(self) -> bool:
        """The token may not write here (a fork's pull request): 403, or 404 as GitHub hides what it forbids."""
        return self.status in (403, 404)


class GitHub:
    """The few REST calls the action makes, with the standard library."""

    def __init__(self, api: str, token: str) -> None:
        self.api, self.token = api.rstrip("/"), token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[object, str]:
        """(the decoded answer, its Link header) of `method` on `path` (relative to the API, or a full URL)."""
        url = path if path.startswith(("http://", "https://")) else f"{self.api}/{path}"
        request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                data = answer.read()
                return (json.loads(data) if data.strip() else None), answer.headers.get("Link", "")
        except urllib.error.HTTPError as error:
            said = error.read().decode("utf-8", "replace")[:300]
            raise ActionError(f"{method} {path}: HTTP {error.code}: {said}", error.code) from None
        except (urllib.error.URLError, OSError) as error:
            raise ActionError(f"{method} {path}: {error}") from None

    def every(self, path: str) -> list:
        """Every item of a paginated list."""
        items: list = []
        url: str | None = f"{path}{'&' if '?' in path else '?'}per_page=100"
        while url:
            page, link = self.call("GET", url)
            items += page or []
            found = _NEXT.search(link)
            url = found.group(1) if found else None
        return items


def right_side_ranges(patch: str) -> list[range]:
    """The lines of the new file that a file's PR patch shows (each hunk's `+start,count`)."""
    return [range(int(start), int(start) + int(count or 1)) for start, count in _HUNK.findall(patch)]


def changed_files(github: GitHub, repository: str, number: int) -> dict[str, list[range]]:
    """Every file the pull request changes, with the lines of it that review comments may be put on."""
    files = github.every(f"repos/{repository}/pulls/{number}/files")
    return {f["filename"]: right_side_ranges(f.get("patch") or "") for f in files}


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
    return {"commit_id": commit, "event": "COMMENT", "body": f"{MARKER}\n{body}", "comments": comments}


def publish_review(github: GitHub, repository: str, number: int, payload: dict, clean: bool) -> str:
    """Post the review, or bring the one an earlier run posted up to date; what was done, in words. A `clean`
    run (nothing found) posts nothing, but still updates an earlier review: what it said is fixed now."""
    pulls = f"repos/{repository}/pulls"
    ours = [r for r in github.every(f"{pulls}/{number}/reviews") if MARKER in (r.get("body") or "")]
    if not ours:
        if clean:
            return "nothing to review"
        github.call("POST", f"{pulls}/{number}/reviews", payload)
        return f"posted a review with {len(payload['comments'])} suggestion(s) on the changed lines"
    review = ours[-1]
    github.call("PUT", f"{pulls}/{number}/reviews/{review['id']}", {"body": payload["body"]})
    wanted = {_key(comment) for comment in payload["comments"]}
    kept, deleted = set(), 0
    for comment in github.every(f"{pulls}/{number}/reviews/{review['id']}/comments"):
        key = _key(comment)
        if key in wanted and key not in kept:
            kept.add(key)
        else:
            github.call("DELETE", f"{pulls}/comments/{comment['id']}")
            deleted += 1
    added = [c for c in payload["comments"] if _key(c) not in kept]
    for comment in added:
        github.call("POST", f"{pulls}/{number}/comments", {**comment, "commit_id": payload["commit_id"]})
    return (f"updated its review: {len(kept)} suggestion(s) kept, {len(added)} added, {deleted} no longer right "
            "removed")


def _key(comment: dict) -> tuple:
    """What makes two suggestion comments the same: the file, the lines and the text."""
    line = comment.get("line") or comment.get("original_line")
    start = comment.get("start_line") or comment.get("original_start_line")
    return comment["path"], start if start != line else None, line, comment["body"]


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


def _argv(path: Path) -> list[str]:
    """The `fixer dry-run` command line the inputs ask for."""
    argv = [str(path)]
    for name in ("select", "ignore"):
        if os.environ.get(f"INPUT_{name.upper()}", "").strip():
            argv += [f"--{name}", os.environ[f"INPUT_{name.upper()}"].strip()]
    if os.environ.get("INPUT_UNSAFE_FIXES", "").strip().lower() == "true":
        argv.append("--unsafe-fixes")
    return argv + shlex.split(os.environ.get("INPUT_ARGS") or "")


def _from_fork(pull: dict) -> bool:
    head = ((pull.get("head") or {}).get("repo") or {}).get("full_name")
    base = ((pull.get("base") or {}).get("repo") or {}).get("full_name")
    return bool(head and base and head != base)


def main() -> int:
    from fixer.cli.commands import EXIT_CLEAN, EXIT_ERROR, EXIT_PENDING, dry_run_outcome, unfixed

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
    github = GitHub(os.environ.get("GITHUB_API_URL") or "https://api.github.com", os.environ.get("GITHUB_TOKEN", ""))
    prefix = display_prefix(path)

    shown: dict[str, list[range]] = {}
    if pull:
        shown = changed_files(github, repository, pull["number"])
        if not any(name == prefix or name.startswith(f"{prefix}/") or not prefix for name in shown):
            print(f"fixer: the pull request changes nothing under {path}; not run")
            _set_output("exit-code", str(EXIT_CLEAN))
            return EXIT_CLEAN
        if mode == "review" and _from_fork(pull):
            print("fixer: a pull request from a fork gets a read-only token: annotations and the job summary instead of a review")
            mode = "fork"
    elif mode == "review":
        mode = "annotations"  # no pull request to review (a push): say it where the run is shown

    outcome = dry_run_outcome(_argv(path))
    pending = any(r.changed for r in outcome.results) or unfixed(outcome)
    code = EXIT_PENDING if pending else EXIT_CLEAN
    diagnostics = collect(outcome.results, applied=False, prefix=prefix)
    _set_output("findings", str(len(diagnostics.items)))
    if mode == "sarif":
        target = Path(os.environ.get("RUNNER_TEMP") or ".") / "fixer.sarif"
        target.write_text(render("sarif", diagnostics), encoding="utf-8")
        _set_output("sarif-file", str(target))
    elif mode in ("annotations", "fork"):
        sys.stdout.write(render("github", diagnostics))
    else:
        payload = review_payload(diagnostics, shown, pull["head"]["sha"])
        try:
            clean = not (diagnostics.items or diagnostics.skipped)
            print(f"fixer: {publish_review(github, repository, pull['number'], payload, clean)}")
        except ActionError as error:
            if not error.read_only:
                raise
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
