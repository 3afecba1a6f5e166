"""What a run says on stderr once it is done: the startup audit, the rounds, the findings left for a person,
the lock files to regenerate, and the progress bar while it runs. stdout carries only the product."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fixer.output.options import say

SUMMARY_SAID = "fixer.summary-said"


def _startup_summary(outcome) -> None:
    """The predicted startup, in the order a person meets the failures (stderr)."""
    from fixer.output.options import shown

    startup = outcome.facts.startup
    prediction = startup.primary
    if prediction is None:
        return
    if startup.differing:
        say("note: the start commands disagree: " + "; ".join(p.start.describe() for p in startup.differing))
    head = f"Startup as {prediction.start.describe()}, CPython {startup.python}:"
    if not prediction.failures and prediction.uncertain:
        path, line, error, why = prediction.uncertain[0]
        say(f"{head} uncertain: {error} at {shown(outcome.root, path)}:{line} ({why}).")
    elif not prediction.failures:
        if prediction.required_settings:
            say(f"{head} imports ({len(prediction.order)} project module(s)) once the environment sets "
                f"{len(prediction.required_settings)} variable(s) (below).")
        else:
            say(f"{head} imports cleanly ({len(prediction.order)} project module(s)).")
    else:
        from fixer.rules.startup_checks import fixing_rules

        fixing = fixing_rules(outcome.results)  # a rule that made no fix here does not fix the failure
        say(f"{head} predicted failures in order:")
        for n, failure in enumerate(prediction.failures, start=1):
            fixed = next((rule for rule in failure.fixers if rule in fixing), None)
            fix = f"fixed by {fixed}" if fixed else (
                f"{failure.fixed_by} made no fix for it in this run" if failure.fixed_by else "needs a person")
            say(f"  {n}. {failure}  [{shown(outcome.root, failure.path)}:{failure.line}; {fix}]")
        _say_uncertain(outcome, prediction)
    _say_tables(outcome, startup)
    for path, line, _ in prediction.unchecked:
        say(f"  cannot check {path}:{line} on this Python (CPython {sys.version_info.major}.{sys.version_info.minor}): "
            f"it uses newer syntax that CPython {startup.python} accepts; what it imports is not walked")
    if prediction.required_settings:
        say("  required environment (settings without a default; the start fails until they are set): " + ", ".join(
            f"{variable} ({path}:{line} {field})" for variable, path, line, field in prediction.required_settings))


def _say_tables(outcome, startup) -> None:
    """Once started, the first request that touches a table nothing created fails (stderr)."""
    from fixer.output.options import shown

    never = startup.tables_never_created
    if never is None:
        return
    rule = "FX044" if never.kind == "lifespan" else "FX046" if never.module else None
    fixed = rule is not None and any(f.rule == rule and f.fixed for r in outcome.results for f in r.findings)
    say(f"  then the first request that touches a table fails: ProgrammingError: relation \"{(never.tables or never.models)[0]}\" does "
        f"not exist  [{shown(outcome.root, never.path)}:{never.line}; "
        + (f"fixed by {rule}]" if fixed else "needs a person]"))


def _say_uncertain(outcome, prediction) -> None:
    """What the install may or may not cause, beside the failures it does (stderr)."""
    from fixer.output.options import shown

    for path, line, error, why in prediction.uncertain:
        say(f"  uncertain: {error} at {shown(outcome.root, path)}:{line} ({why}).")


def _rounds_summary(outcome) -> None:
    """The rounds (predict, fix, predict again) and what still stands after them, in order (stderr)."""
    from fixer.output.options import shown
    from fixer.apply.rounds import describe

    lines = describe(outcome.rounds)
    if not lines or outcome.after is None:
        return
    for line in lines:
        say(line)
    if not outcome.after.failures:
        say(f"After the fixes, the start is predicted clean ({len(outcome.after.order)} project module(s))"
            + (" except where fixer cannot tell:" if outcome.after.uncertain else "."))
        _say_uncertain(outcome, outcome.after)
        return
    say("After the fixes, what still stands between the backend and a start, in order:")
    for n, failure in enumerate(outcome.after.failures, start=1):
        say(f"  {n}. {failure}  [{shown(outcome.root, failure.path)}:{failure.line}]")


def say_ignored(ignored: list[tuple[str, str, list[str]]], root: Path) -> None:
    from fixer.output.options import shown

    for rel, why, rules in ignored:
        would = f"{', '.join(rules)} would change it" if rules else "a rule would change it"
        say(f"fixer: {shown(root, rel)} is ignored ({why}); {would}; name it to fix it")


def is_held_back(finding) -> bool:
    """An unsafe fix not written: an offer, not an issue left for a person."""
    return not finding.fixed and not finding.safe


def summarise(outcome, applied: bool, verbose: bool) -> None:
    from fixer.output.options import path_prefix, severity_style, shown
    from fixer.model.urls import redact

    if not applied:
        _startup_summary(outcome)
    _rounds_summary(outcome)

    fixed = [f for r in outcome.results if r.changed for f in r.findings if f.fixed]
    changed = [r for r in outcome.results if r.changed]
    prefix = path_prefix(outcome.root) if outcome.root is not None else ""
    for result in outcome.results:
        path = shown(None, result.path, prefix)
        if result.error:
            click.echo(f"skipped {path}: {redact(result.error)}", err=True)
            if verbose and result.traceback:
                click.echo(result.traceback.rstrip("\n"), err=True)
        for finding in result.findings:
            # `path:line:col: FXnnn message`, as ruff and compilers print them: editors and terminals link it.
            where = f"{path}:{finding.line or 1}:{_column(result, finding.line or 1)}: "
            rule = severity_style(finding.rule, finding.severity)
            if finding.note:
                say(f"{where}{rule} note: {redact(finding.problem)}")
            elif is_held_back(finding):
                say(f"{where}{rule} unsafe fix (--unsafe-fixes): {redact(finding.problem)}")
            elif not finding.fixed:
                say(f"{where}{rule} needs a person: {redact(finding.problem)}")
            elif verbose:
                say(f"{where}{rule} {redact(finding.problem)}")
    if not changed:
        summary = f"Nothing to fix in {outcome.files_scanned} file(s)."
    else:
        verb = "Fixed" if applied else "Would fix"
        summary = f"{verb} {len(fixed)} issue(s) in {len(changed)} file(s); scanned {outcome.files_scanned} file(s)."
        if not applied:
            summary += " Run `fixer apply` to write them."
    held = sum(1 for r in outcome.results for f in r.findings if is_held_back(f))
    if held:
        summary += f" {held} unsafe fix(es) not made: `--unsafe-fixes` makes them."
    left = sum(1 for r in outcome.results for f in r.findings if not f.fixed and not is_held_back(f) and not f.note)
    left += sum(1 for r in outcome.results if r.error)
    if left:
        summary += f" {left} issue(s) need a person (above)."
    noted = sum(1 for r in outcome.results for f in r.findings if f.note)
    if noted:
        summary += f" {noted} note(s): no defect, for a person to check (above)."
    summary += _suppressed_note(outcome)
    for note in _stale_locks(outcome, applied):
        say(note)
    say(summary)
    if (context := click.get_current_context(silent=True)) is not None:
        context.meta[SUMMARY_SAID] = True


def _column(result, line: int) -> int:
    """Where the code on `line` starts (1-based): findings are made per line, and the line's code is what they name."""
    from fixer.apply.changes import old_lines

    lines = old_lines(result)
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return len(text) - len(text.lstrip(" \t")) + 1 if text.strip() else 1


# A lock file is what `uv sync --locked`, `poetry install` and `pdm install` install from: once the manifest
# beside it changes, the lock must be made again or the edit is refused or ignored.
_LOCKS = {"pyproject.toml": (("uv.lock", "uv lock"), ("poetry.lock", "poetry lock"), ("pdm.lock", "pdm lock")),
          "Pipfile": (("Pipfile.lock", "pipenv lock"),)}


def _stale_locks(outcome, applied: bool) -> list[str]:
    import posixpath

    from fixer.output.options import shown

    notes = []
    for result in outcome.results:
        if not result.changed:
            continue
        folder, name = posixpath.split(result.path)
        for lock, command in _LOCKS.get(name, ()):
            if outcome.root is not None and (outcome.root / folder / lock).is_file():
                where = posixpath.join(folder, lock)
                matches = "no longer matches" if applied else "will no longer match"
                notes.append(f"fixer: {shown(outcome.root, where)} {matches} {shown(outcome.root, result.path)}: run `{command}` beside it")
    return notes


def _suppressed_note(outcome) -> str:
    suppressed = sum(len(r.suppressed) for r in outcome.results)
    return f" {suppressed} suppressed (`# fixer: ignore`)." if suppressed else ""


def progress_bar(total: int):
    # Only worth drawing when the run is long enough to wonder about.
    if total < 200:
        return None
    bar = click.progressbar(length=total, label="fixing", file=sys.stderr)
    bar.__enter__()

    def advance(n: int) -> None:
        bar.update(n)
        if bar.pos >= total:
            bar.__exit__(None, None, None)

    return advance
