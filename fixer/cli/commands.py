"""The `fixer` command line: dry-run, apply, rules, rule, schema.

stdout carries only the product (the patch for dry-run, the list of written files for apply, the rule
table); everything said to the person goes to stderr. Exit codes: 0 nothing to do or all applied, 1 fixes
pending (dry-run) or issues left for a person, 2 usage or internal error, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import click

from fixer import __version__
from fixer.cli.summary import SUMMARY_SAID, is_held_back, progress_bar, say_ignored, summarise
from fixer.output.options import output_options, say
from fixer.verify.command import verify_after_apply, verify_command

EXIT_CLEAN, EXIT_PENDING, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


FINISHED_INTERRUPT = "fixer: interrupted as it finished; what it said above is done."
_CONFIG_KEY = "fixer.config"  # (--config values, --isolated)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C once some files may have been written: says which."""


def _split(values: tuple[str, ...]) -> list[str]:
    return [token.strip() for value in values for token in value.split(",") if token.strip()]


def _paths(func):
    """PATHS... (files, folders, or `-` for stdin) become `path`, the project root the run covers; what they
    name is kept in the context for `_run` (see fixer.discover.paths)."""

    @click.argument("paths", nargs=-1, type=click.Path(exists=True, allow_dash=True))
    @click.option("--stdin-filename", metavar="PATH", help="The file that stdin (`-`) stands for: its name picks the rules and the project.")
    @click.option("--force-exclude", is_flag=True, help="Apply excludes and .gitignore to files named on the command line too.")
    @functools.wraps(func)
    def wrapper(paths, stdin_filename, force_exclude, **kwargs):
        from fixer.discover.paths import CONTEXT_KEY, TargetError, resolve

        try:
            runs = resolve(list(paths), stdin_filename, force_exclude, stdin=sys.stdin.buffer)
        except TargetError as error:
            raise click.UsageError(str(error)) from None
        context = click.get_current_context()
        if len(runs) == 1:
            context.meta[CONTEXT_KEY] = runs[0]
            return func(path=runs[0].root, **kwargs)
        _check_several(runs, kwargs)
        codes = []
        for targets in runs:  # one project after the other, each as if named alone
            context.meta[CONTEXT_KEY] = targets
            context.meta.pop(SUMMARY_SAID, None)
            try:
                codes.append(func(path=targets.root, **kwargs))
            except SystemExit as exit_:
                codes.append(exit_.code if isinstance(exit_.code, int) else EXIT_ERROR if exit_.code else 0)
            if codes[-1] in (EXIT_ERROR, EXIT_INTERRUPTED):
                break
        sys.exit(codes[-1] if codes[-1] in (EXIT_ERROR, EXIT_INTERRUPTED) else max(codes))

    return wrapper


# What one file or stream holds whole: with several projects, the second run's would replace the first's.
_ONE_FILE_OPTIONS = {"report_path": "--report", "plan_path": "--plan", "output_file": "--output-file"}
_ONE_DOCUMENT_FORMATS = ("json", "sarif", "gitlab")


def _check_several(runs, kwargs) -> None:
    """Several projects give one output after the other: only where outputs can follow each other."""
    roots = ", ".join(str(targets.root) for targets in runs)
    for key, option in _ONE_FILE_OPTIONS.items():
        if kwargs.get(key) is not None:
            raise click.UsageError(f"{option} takes one project's run; these paths are in {len(runs)} projects "
                                   f"({roots}): run fixer once per project")
    if kwargs.get("output_format") in _ONE_DOCUMENT_FORMATS:
        raise click.UsageError(f"--output-format {kwargs['output_format']} is one document for one project; these "
                               f"paths are in {len(runs)} projects ({roots}): run fixer once per project")


def _targets():
    from fixer.discover.paths import CONTEXT_KEY

    context = click.get_current_context(silent=True)  # None when the Action calls _run itself
    return context.meta.get(CONTEXT_KEY) if context is not None else None


def _common(func):
    @_paths
    @click.option("--select", multiple=True, metavar="RULE,...", help="Only these rules (ID, ID prefix or name).")
    @click.option("--ignore", multiple=True, metavar="RULE,...", help="Skip these rules.")
    @click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
                  help="Write the audit report (JSON) here; `-` for stdout (instead of the output).")
    @click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Parallel workers [default: all cores].")
    @click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and per-file detail.")
    @click.option(
        "--unsafe-fixes", is_flag=True,
        help="Also make fixes whose failing input the project does not show (e.g. a URL only a platform injects).",
    )
    @click.option("--entrypoint", metavar="MODULE:ATTR", default=None,
                  help="The app as the server imports it [default: from README, Dockerfile, Procfile, compose, ...].")
    @click.option("--run-from", "run_from", metavar="DIR", default=None,
                  help="The folder the server is started in [default: the one the start command implies].")
    @click.option(
        "--to-async", is_flag=True,
        help="Convert a working all-sync project to SQLAlchemy's asyncio layer too (without it only half-async projects are).",
    )
    @click.option("--config", "config_args", multiple=True, metavar="PATH | KEY=VALUE",
                  help="Read this settings file instead of the closest one; KEY=VALUE (TOML) overrides one setting.")
    @click.option("--isolated", is_flag=True, help="Read no settings file (pyproject.toml, fixer.toml).")
    @click.option("--show-settings", is_flag=True, help="Print the settings the run would use, and exit.")
    @functools.wraps(func)
    def wrapper(**kwargs):
        verbose = kwargs["verbose"]
        click.get_current_context().meta[_CONFIG_KEY] = (kwargs.pop("config_args"), kwargs.pop("isolated"))
        if kwargs.pop("show_settings"):
            from fixer.discover.config import describe

            config, chosen, _ = _settings(kwargs["path"], kwargs["select"], kwargs["ignore"])
            click.echo(describe(config, sorted(chosen), _targets().root))
            sys.exit(EXIT_CLEAN)
        try:
            code = func(**kwargs)
        except click.ClickException:
            raise
        except KeyboardInterrupt as interrupt:
            # Not click's "Aborted!" and exit 1, which would read as "fixes pending".
            if click.get_current_context().meta.get(SUMMARY_SAID):
                # Past the summary (in the output options' wrapper, say): everything it reports was done.
                click.echo(FINISHED_INTERRUPT, err=True)
            else:
                said = str(interrupt) if isinstance(interrupt, Interrupted) else "nothing was written"
                click.echo(f"fixer: interrupted; {said}.", err=True)
            code = EXIT_INTERRUPTED
        except Exception as error:
            if verbose:
                import traceback

                traceback.print_exc()
            click.echo(f"fixer: error: {type(error).__name__}: {error}", err=True)
            code = EXIT_ERROR
        sys.exit(code)

    return wrapper


def run() -> None:
    """The `fixer` command (console script and `python -m fixer`). A Ctrl-C once the command has done and said its
    work would only turn the exit into a death by signal: SIGINT is held from there to the end of the process.
    (Not in `main`, which tests call in-process: a held signal would outlive the call.)"""
    try:
        main()
    except KeyboardInterrupt:
        click.echo(FINISHED_INTERRUPT, err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _print_version(ctx: click.Context, _param, value: bool) -> None:
    """`fixer -V`: the version, and the date of the package tables its rules decide from (fixer/data)."""
    if not value or ctx.resilient_parsing:
        return
    import json
    from importlib.resources import files

    generated = json.loads(files("fixer.data").joinpath("modules.json").read_text(encoding="utf-8")).get("generated")
    click.echo(f"fixer {__version__} (package tables of {generated or 'an unknown date'})")
    ctx.exit(0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
def main() -> None:
    """Find and fix the defects that keep a FastAPI + SQLModel backend on async SQLAlchemy from starting."""


@main.command("dry-run")
@click.option("--plan", "plan_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the plan (each file's hashes and findings) that `apply --plan` holds to.")
@_common
@output_options
def dry_run(path: Path, select, ignore, report_path, jobs, verbose, unsafe_fixes, to_async, plan_path,
            entrypoint=None, run_from=None) -> int:
    """Print the fixes for PATHS (files, folders, `-` for stdin) as a unified diff (for `git apply`); write nothing."""
    from fixer.output.diff import patch
    from fixer.output.options import colour_patch, emit, path_prefix, shown

    outcome = _run(path, select, ignore, jobs, report_path, verbose, unsafe_fixes, to_async, applied=False,
                   entrypoint=entrypoint, run_from=run_from)
    if plan_path is not None:
        from fixer.apply.plan import write_plan

        write_plan(plan_path, outcome.results)
    notes: list[str] = []
    prefix = path_prefix(path, patch=True)
    if prefix != path_prefix(path) and any(r.changed for r in outcome.results):
        notes.append(f"the patch's paths are relative to {path.resolve()}, outside the working folder: apply it there")

    def text(out, coloured: bool) -> None:
        for result in outcome.results:
            if result.changed:
                data, held_back = patch(result, result.encoding, shown(path, result.path, prefix))
                out.write(colour_patch(data) if coloured else data)
                notes.extend(held_back)

    emit(outcome.results, path, applied=False, text=text)
    for note in notes:
        say(f"note: {note}")
    summarise(outcome, applied=False, verbose=verbose)
    pending = any(r.changed for r in outcome.results) or _unfixed(outcome)
    return EXIT_PENDING if pending else EXIT_CLEAN


def _add_noqa(func):
    """`apply --add-noqa`: instead of fixing, write a suppression comment on each line with a finding fixer does
    not fix (see fixer.apply.add_noqa)."""

    @click.option("--add-noqa", is_flag=True,
                  help="Write `# fixer: ignore[FXnnn]` on each line with an unfixed finding (unsafe or for a person); fix nothing.")
    @functools.wraps(func)
    def wrapper(add_noqa, **kwargs):
        if not add_noqa:
            return func(**kwargs)
        from fixer.apply.add_noqa import with_suppressions
        from fixer.output.options import shown
        from fixer.apply.write import WriteError, apply_changes

        outcome = _run(kwargs["path"], kwargs["select"], kwargs["ignore"], kwargs["jobs"], None, kwargs["verbose"],
                       kwargs["unsafe_fixes"])
        changes, counts = [], {}
        for result in outcome.results:
            new, added = with_suppressions(result)
            if added:
                changes.append((result.path, result.old, new))
                counts[result.path] = added
        try:
            for rel in apply_changes(kwargs["path"], changes):
                click.echo(f"added {counts[rel]} suppression comment(s) to {shown(kwargs['path'], rel)}")
        except WriteError as error:
            click.echo(f"fixer: error: {error}", err=True)
            return EXIT_ERROR
        click.echo(f"Added {sum(counts.values())} suppression comment(s) in {len(counts)} file(s).", err=True)
        return EXIT_CLEAN

    return wrapper


@main.command("apply")
@verify_after_apply
@click.option("--plan", "plan_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Write only if the fixes are exactly this plan's (from `dry-run --plan`); else write nothing.")
@_common
@output_options(fixes_written=True)
@_add_noqa
def apply(path: Path, select, ignore, report_path, jobs, verbose, unsafe_fixes, to_async, plan_path,
          entrypoint=None, run_from=None) -> int:
    """Write the fixes for PATHS in place (for `-`, print the fixed input on stdout)."""
    from fixer.output.options import emit, settings, shown
    from fixer.apply.plan import PlanError, differences, read_plan
    from fixer.apply.write import WriteError, apply_changes, remove_stale_temps

    try:
        plan = read_plan(plan_path) if plan_path is not None else None
    except PlanError as error:
        click.echo(f"fixer: error: {error}", err=True)
        return EXIT_ERROR
    removed, kept = remove_stale_temps(path)
    for stale in removed:
        say(f"removed {stale}, a temporary file left by an interrupted fixer run")
    for original in kept:
        say(f"kept {original}: what its file held before an interrupted fixer run; delete it once that file is right")
    outcome = _run(path, select, ignore, jobs, report_path, verbose, unsafe_fixes, to_async, applied=True,
                   entrypoint=entrypoint, run_from=run_from)
    if _targets().stdin is not None:
        return _print_fixed_stdin(outcome, verbose)
    if plan is not None:
        _as_reviewed(outcome.results)
        if differ := differences(plan, path, outcome.results):
            click.echo(f"fixer: error: the files differ from the plan: {'; '.join(differ)}; nothing was changed", err=True)
            return EXIT_ERROR
    changed = {r.path: r for r in outcome.results if r.changed}
    try:
        written = apply_changes(path, [(r.path, r.old, r.new) for r in changed.values()])
        settings().wrote = bool(written)

        def text(out, coloured: bool) -> None:
            for rel in written:
                rules = Counter(f.rule for f in changed[rel].findings if f.fixed)
                line = f"fixed {shown(path, rel)} ({', '.join(f'{rule} x{n}' for rule, n in sorted(rules.items()))})\n"
                out.write(line.encode("utf-8", "surrogateescape"))

        emit(outcome.results, path, applied=True, text=text)
        summarise(outcome, applied=True, verbose=verbose)
    except WriteError as error:
        click.echo(f"fixer: error: {error}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        raise Interrupted(_written(path, list(changed.values()))) from None
    return EXIT_PENDING if _unfixed(outcome) else EXIT_CLEAN


def _as_reviewed(results) -> None:
    """`apply --plan` writes what the reviewed patch showed: a change it left out (a secret git does not track)
    is not written, and named."""
    from fixer.apply.changes import shown

    for result in results:
        if result.changed and (reviewed := shown(result)) != result.new:
            result.new = reviewed
            say(f"fixer: {result.path}: the changes the patch left out (they would show a secret git does not track) "
                "are not written with --plan; `fixer apply` without it writes them")


def _print_fixed_stdin(outcome, verbose: bool) -> int:
    """`fixer apply -`: the input, fixed, on stdout (as an editor's format-on-save wants it); nothing is written."""
    stdin_rel, data = _targets().stdin
    result = next((r for r in outcome.results if r.path == stdin_rel), None)
    sys.stdout.buffer.write(result.new if result is not None and result.changed else data)
    sys.stdout.buffer.flush()
    summarise(outcome, applied=True, verbose=verbose)
    return EXIT_PENDING if _unfixed(outcome) else EXIT_CLEAN


def _written(root: Path, changed: list) -> str:
    """What an interrupted apply wrote, read back from the files: each is whole (written by a rename)."""
    done = sum(1 for result in changed if _holds(root / result.path, result.new))
    if done == len(changed):
        return f"all {done} file(s) to fix were written"
    return (
        f"{done} of {len(changed)} file(s) to fix were written, the other {len(changed) - done} are as they were; "
        "no file is half-written. Run `fixer apply` again to finish"
    )


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False


main.add_command(verify_command)


@main.command("rules")
def rules_command() -> None:
    """List every rule: ID, name, title."""
    from fixer.rules.registry import all_rules

    rules = all_rules()
    width = max(len(rule.name) for rule in rules)
    for rule in rules:
        click.echo(f"{rule.id}  {rule.name:<{width}}  {rule.title}")


@main.command("rule")
@click.argument("rule_id")
def rule_command(rule_id: str) -> None:
    """Explain one rule: what it does, why, an example and what to use instead, and how safe its fix is."""
    from fixer import rule_doc_url
    from fixer.output.docs import terminal
    from fixer.rules.registry import UnknownRule, select
    from fixer.rules.ruledoc import rule_doc

    try:
        rules = select([rule_id])
    except UnknownRule as error:
        raise click.UsageError(str(error)) from None
    for number, rule in enumerate(rules):
        if number:
            click.echo()
        click.echo(terminal(rule_doc(rule)), nl=False)
        click.echo(f"\nOnline: {rule_doc_url(rule.id)}")


@main.command("model")
@click.argument("path", type=click.Path(exists=True, path_type=Path), default=".")
def model_command(path: Path) -> None:
    """Print the project model fixer decides from (JSON): module roles, versions, engines and URLs."""
    import json

    from fixer.apply import runner
    from fixer.model.urls import redact

    from fixer.discover.paths import project_root

    outcome = runner.run(path if path.is_dir() else project_root(path.absolute().parent), codemods=[], text_rules=[], jobs=1)
    click.echo(redact(json.dumps(outcome.facts.describe(), indent=2, default=str)))


@main.command("server")
def server_command() -> None:
    """Run the language server (LSP on stdin/stdout): diagnostics as you type, fixes as code actions."""
    try:
        from fixer.cli.server import main as serve
    except ImportError as error:
        raise click.UsageError(f"the language server needs pygls ({error}): pip install 'fixer[server]'") from None
    serve()


@main.command("schema")
@click.argument("what", type=click.Choice(["report", "json"]), default="report")
def schema_command(what: str) -> None:
    """Print the JSON Schema of the audit report (`--report`), or of `--output-format json` (WHAT=json)."""
    import json

    from fixer.output.json import schema
    from fixer.output.report import report_schema

    click.echo(json.dumps(report_schema() if what == "report" else schema(), indent=2))


def _run(path: Path, select, ignore, jobs, report_path, verbose, unsafe_fixes=False, to_async=False, applied=True,
         entrypoint=None, run_from=None):
    from fixer.apply import runner
    from fixer.output.options import check_report_on_stdout, settings

    report_on_stdout = check_report_on_stdout(report_path)
    if report_path is not None and not report_on_stdout:
        _check_report_folder(report_path)
    config, chosen, skip = _settings(path, select, ignore)
    exclude = [(config.folder, pattern) for pattern in config.exclude]
    from fixer.rules.registry import PYTHON_CODEMODS, TEXT_RULES

    started = time.perf_counter()
    targets = _targets()

    def one_round(root: Path):
        return runner.run(
            root,
            codemods=[c for c in PYTHON_CODEMODS if c.RULE_ID in chosen],
            text_rules=[r() for r in TEXT_RULES if r.RULE_ID in chosen],
            jobs=jobs or runner.default_jobs(),
            # Excludes are relative to the configuration's folder: the copy keeps the root's place below it.
            exclude=[(Path(os.path.normpath(root / os.path.relpath(folder.resolve(), path.resolve()))), pattern)
                     for folder, pattern in exclude],
            targets=dataclasses.replace(targets, root=root) if targets is not None else None,
            progress_factory=progress_bar if sys.stderr.isatty() and not settings().quiet else None,
            lines_of_fixed=verbose or report_path is not None or settings().output_format != "text",
            unsafe_fixes=unsafe_fixes,
            to_async=to_async,
            entrypoint=_entrypoint(entrypoint),
            run_from=run_from,
            skip=skip,
        )

    if targets is not None and targets.stdin is not None:
        outcome, rounds = one_round(path), []
    else:
        # Predict, fix, predict again (fixer.apply.rounds): a fix uncovers what the first prediction could not see.
        from fixer.apply.rounds import run_rounds

        anchor = config.source.parent if config.source else None
        if anchor is not None and not path.resolve().is_relative_to(anchor.resolve()):
            anchor = None
        outcome, rounds = run_rounds(path, one_round, anchor)
    outcome.rounds = rounds
    from fixer.apply.layout import lay_out

    lay_out(outcome.results, outcome.root or path)  # the project's line length and formatter
    say_ignored(outcome.ignored, path)
    if report_path is not None:
        from fixer.output.report import build_report, report_json

        report = build_report(outcome.results, outcome.files_scanned, time.perf_counter() - started, applied=applied)
        if report_on_stdout:
            click.echo(report_json(report), nl=False)
        else:
            report_path.write_text(report_json(report), encoding="utf-8")
    return outcome


def dry_run_outcome(argv: list[str]):
    """The run `fixer dry-run ARGV` makes, without printing anything: the GitHub Action's entry (fixer.cli.action),
    so that its `args` input takes every option the command takes."""
    from fixer.discover.paths import CONTEXT_KEY, TargetError, resolve

    context = dry_run.make_context("dry-run", list(argv))
    with context:
        params = context.params
        try:
            runs = resolve(list(params["paths"]), params["stdin_filename"], params["force_exclude"])
        except TargetError as error:
            raise click.UsageError(str(error)) from None
        if len(runs) != 1:
            raise click.UsageError("the Action runs on one project: name its folder in `path`")
        targets = runs[0]
        context.meta[CONTEXT_KEY] = targets
        context.meta[_CONFIG_KEY] = (params["config_args"], params["isolated"])
        return _run(targets.root, params["select"], params["ignore"], params["jobs"], None, True,
                    params["unsafe_fixes"], params["to_async"], applied=False, entrypoint=params["entrypoint"],
                    run_from=params["run_from"])


def _settings(path: Path, select, ignore):
    """The run's settings (--config, --isolated, the closest settings file), the rule IDs chosen, and what
    per-file-ignores turn off (a `skip(path, rule ID)` for the runner, or None)."""
    from fixer.discover.config import ConfigError, load, per_file_skip
    from fixer.rules.registry import UnknownRule
    from fixer.rules.registry import select as select_rules

    context = click.get_current_context(silent=True)
    config_args, isolated = context.meta.get(_CONFIG_KEY, ((), False)) if context is not None else ((), False)
    files = [value for value in config_args if "=" not in value or Path(value).is_file()]
    if len(files) > 1:
        raise click.UsageError("--config names one settings file (more values must be KEY=VALUE settings)")
    overrides = tuple(value for value in config_args if value not in files)
    try:
        config = load(path, files[0] if files else None, isolated, overrides)
        chosen = {rule.id for rule in select_rules(_split(select) or config.select, config.ignore + _split(ignore))}
        skip = per_file_skip(config, path, lambda tokens: {rule.id for rule in select_rules(tokens)})
    except (UnknownRule, ConfigError) as error:
        raise click.UsageError(str(error)) from None
    return config, chosen, skip


def _entrypoint(value: str | None) -> str | None:
    from fixer.verify.entrypoint import EntrypointError, parse_entrypoint

    try:
        return parse_entrypoint(value) if value else None
    except EntrypointError as error:
        raise click.UsageError(str(error)) from None


def _check_report_folder(report_path: Path) -> None:
    """Before the run, not after it: a report that cannot be written would cost the whole run."""
    import os

    folder = report_path.parent
    if not folder.is_dir():
        raise click.UsageError(f"cannot write the report to {report_path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise click.UsageError(f"cannot write the report to {report_path}: the folder {folder} is not writable")


def _unfixed(outcome) -> bool:
    return any(r.error for r in outcome.results) or any(
        not f.fixed and not is_held_back(f) and not f.note for r in outcome.results for f in r.findings
    )


unfixed = _unfixed  # the verdict's other half, for the Action (fixer.cli.action)
