"""`fixer verify PATH`: boot the backend for real against PostgreSQL; PASS (exit 0) or FAIL (exit 1).

stdout carries the verdict (PASS/FAIL, what ran, each probe, and on failure the first error, its place, the
defect-catalogue cause and the fix); progress and pip's output go to stderr. Exit codes: 0 pass, 1 fail,
2 usage or internal error (one line; the traceback with --verbose), 130 interrupted (after stopping everything).

Wiring into fixer/cli/commands.py (the module imports nothing heavy):
    main.add_command(verify_command)          # `fixer verify`
    @verify_after_apply                       # under @main.command("apply"): adds `fixer apply --verify`
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

# Every fixer command imports this module to register `verify`: the machinery is imported when it runs.
from fixer.verify import CACHE_ENV, DEFAULT_MAX_STARTUP, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from fixer.verify.run import VerificationResult

__all__ = ["DATABASE_URL_ENV", "attach_verification", "verify_after_apply", "verify_and_print", "verify_command"]

EXIT_PASS, EXIT_FAIL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
DATABASE_URL_ENV = "FIXER_VERIFY_DATABASE_URL"  # like --database-url (kept out of the process list)
_PIP_SHOWN = ("Collecting", "Processing", "Installing collected", "Successfully", "ERROR", "error:", "using the cached",
              "creating a virtualenv", "uvicorn is not")


def _stderr(message: str) -> None:
    click.echo(message, err=True)


class _PipProgress:
    """pip's output on stderr: one overwritten status line on a terminal, the key lines otherwise, all with -v."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.tty = sys.stderr.isatty()
        self.count = 0
        self.width = 0

    def __call__(self, line: str) -> None:
        from fixer.model.urls import redact  # an index URL with credentials stays masked

        line = redact(line.rstrip())
        if not line:
            return
        if line.startswith("Collecting"):
            self.count += 1
        if self.verbose:
            _stderr(f"  pip: {line}")
        elif self.tty and not line.startswith(("ERROR", "error:", "using the cached", "creating a virtualenv")):
            text = f"  pip [{self.count} collected]: {line}"[: max(20, shutil.get_terminal_size().columns - 1)]
            click.echo("\r" + text.ljust(self.width), err=True, nl=False)
            self.width = len(text)
        elif line.startswith(_PIP_SHOWN):
            self.done()
            _stderr(f"  pip: {line}" if not line.startswith(("using the cached", "creating a virtualenv", "uvicorn")) else f"  {line}")

    def done(self) -> None:
        if self.width:
            click.echo("\r" + " " * self.width + "\r", err=True, nl=False)
            self.width = 0


def _rel(path: Path) -> str:
    try:
        text = os.path.relpath(path)
    except ValueError:
        return str(path)
    return text if not text.startswith("..") else str(path)


def format_result(result: VerificationResult, path: Path) -> str:
    """The verdict for stdout."""
    v: Any = result.verification
    where = _rel(result.backend_dir) + "/"
    lines: list[str] = []
    if v.passed:
        lines.append(
            f"PASS  {where} started and answered in {v.time_to_healthy_seconds:.2f}s "
            f"(budget {v.max_startup_seconds:g}s)"
        )
    else:
        verdict = {
            "install-failed": "could not be installed",
            "startup-failed": "did not start",
            "startup-timeout": "hung at startup",
            "probe-failed": "started but did not answer",
            "too-slow": "started too slowly",
            "route-failed": "started, but a route failed at its first request",
        }[v.status]
        lines.append(f"FAIL  {where} {verdict}: {v.error}")
        if v.error_location:
            lines.append(f"  at         {v.error_location}")
    if v.predicted_error is not None and (not v.passed or v.predicted_error != "none"):
        same = v.error is not None and v.error.startswith(v.predicted_error.rstrip())
        lines.append(f"  predicted  {v.predicted_error}" + ("  (= the real first error)" if same else ""))
    lines.append(f"  app        {v.entrypoint} (from {v.entrypoint_source})" + (f", --app-dir {v.app_dir}" if v.app_dir else ""))
    if v.python:
        lines.append(f"  python     {v.python} (Python {v.python_version or '?'}, {v.environment})")
    if result.database_display:
        lines.append(f"  database   {result.database_display}")
        if v.database != "database-url":
            lines.append(f"  DATABASE_URL given to the app: {v.database_url}")
    if v.startup_seconds is not None:
        lines.append(f"  startup    'Application startup complete' after {v.startup_seconds:.2f}s")
    for probe in v.probes:
        status = probe.status if probe.status is not None else "no answer"
        lines.append(f"  GET {probe.path:<10} {status} ({probe.seconds * 1000:.0f} ms){'' if probe.ok else '  <- failed'}")
    lines.extend(_route_lines(v.routes))
    for warning in v.warnings:
        lines.append(f"  warning    {warning}")
    for match in v.diagnosis:
        lines.append(f"  cause      {match.defect}: {match.title}")
        if match.rules:
            lines.append(f"  fix        `fixer apply {path}` fixes it ({', '.join(match.rules)}); by hand: {match.fix}")
        else:
            lines.append(f"  fix        {match.fix}")
    if not v.passed and v.traceback:
        title = "pip said" if v.status == "install-failed" else (
            "where it was (faulthandler)" if v.status == "startup-timeout" and "Traceback" not in v.traceback
            else "first traceback"
        )
        from fixer.verify.diagnose import condense_traceback

        text = v.traceback if v.status == "install-failed" else condense_traceback(v.traceback, result.backend_dir)
        tb = text.rstrip().splitlines()
        if len(tb) > 40:
            tb = [f"... ({len(tb) - 40} lines above; the report or --verbose has them all)"] + tb[-40:]
        lines.append(f"  {title}:")
        lines.extend("    " + line for line in tb)
    return "\n".join(lines)


def _route_lines(routes: list) -> list[str]:
    """A count of the routes that answered, then each failure with its exception and the rules that fix it."""
    if not routes:
        return []
    failed = [r for r in routes if not r.ok]
    skipped = [r for r in routes if r.ok and r.status is None]
    outside = [r for r in routes if r.ok and r.error]
    lines = [f"  routes     {len(routes) - len(failed) - len(skipped) - len(outside)} of {len(routes)} answered "
             "without a server error"
             + (f"; not called: {', '.join(f'{r.method} {r.path}' for r in skipped)} (no input fits the schema)" if skipped else "")]
    for r in outside:  # its note ends with why it is not counted
        why = max(r.note.rfind("an outside service failed"), r.note.rfind("verify's own input repeated"), 0)
        lines.append(f"  {r.method} {r.path} {r.status}: {r.error}  ({r.note[why:]})")
    for r in failed:
        answer = r.status if r.status is not None else "no answer"
        lines.append(f"  {r.method} {r.path} {answer}" + (f": {r.error}" if r.error else "") + "  <- failed")
        if r.error_location:
            lines.append(f"    at       {r.error_location}")
        if r.last_frame:
            lines.append(f"    raised   {r.last_frame}")
        if r.rules:
            lines.append(f"    fix      `fixer apply` ({', '.join(r.rules)})")
    return lines


def attach_verification(report_path: Path, result: VerificationResult, duration: float = 0.0) -> None:
    """Write ``result`` as the verification section of the report at ``report_path`` (made if missing)."""
    from fixer.output.report import AuditReport, build_report, report_json, with_verification

    if report_path.is_file() and report_path.stat().st_size:
        report = AuditReport.model_validate(json.loads(report_path.read_text(encoding="utf-8")))
        report = with_verification(report, result.verification)  # type: ignore[arg-type]
    else:
        report = build_report([], files_scanned=0, duration=duration, verification=result.verification)  # type: ignore[arg-type]
    report_path.write_text(report_json(report), encoding="utf-8")


def verify_and_print(
    path: Path, *, report_path: Path | None = None, verbose: bool = False, fresh_report: bool = True, **options: Any
) -> int:
    """Run the verification with progress on stderr and the verdict on stdout; return the exit code.

    Raises what run_verification raises (usage errors, no PostgreSQL, KeyboardInterrupt).
    """
    from fixer.verify.run import run_verification

    started = time.monotonic()
    pip = _PipProgress(verbose)

    def say(message: str) -> None:
        pip.done()
        _stderr(f"fixer verify: {message}")

    try:
        result = run_verification(path, progress=say, pip_progress=pip, **options)
    finally:
        pip.done()
    _with_prediction(result)
    if verbose and result.log:
        _stderr("--- backend log ---\n" + result.log.rstrip() + "\n--- end of backend log ---")
    if verbose and result.pip_output:
        _stderr("--- pip ---\n" + result.pip_output.rstrip() + "\n--- end of pip ---")
    click.echo(format_result(result, path))
    if report_path is not None:
        if fresh_report and report_path.exists():
            report_path.unlink()
        attach_verification(report_path, result, time.monotonic() - started)
        _stderr(f"fixer verify: report written to {report_path}")
    return result.exit_code


def _with_prediction(result: VerificationResult) -> None:
    """The first error the static startup walk predicts for the same start, beside the real one."""
    v = result.verification
    if v is None or v.entrypoint is None:
        return
    try:
        from fixer.model.startup import predicted_first_error

        predicted = predicted_first_error(result.backend_dir, v.entrypoint, v.app_dir)
    except Exception as error:  # a prediction is commentary: it never costs the verification (nor a missing library)
        predicted = f"(no prediction: {type(error).__name__})"
    result.verification = v.model_copy(update={"predicted_error": predicted})


def _handle_errors(verbose: bool, call: Callable[[], int]) -> int:
    from fixer.verify.postgres import PostgresNotAvailable
    from fixer.verify.run import VerifyUsageError

    try:
        return call()
    except click.ClickException:
        raise
    except KeyboardInterrupt:
        _stderr("fixer verify: interrupted; the server and the database were stopped")
        return EXIT_INTERRUPTED
    except (VerifyUsageError, PostgresNotAvailable) as error:
        if verbose:
            raise
        first = " ".join(str(error).split())
        _stderr(f"fixer verify: error: {first}")
        return EXIT_ERROR
    except Exception as error:  # noqa: BLE001 - the project's rule: one line, the traceback with --verbose
        if verbose:
            raise
        _stderr(f"fixer verify: error: {type(error).__name__}: {' '.join(str(error).split())}")
        return EXIT_ERROR


@click.command("verify", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--database-url", envvar=DATABASE_URL_ENV, metavar="URL",
              help=f"Use this PostgreSQL (e.g. a Neon branch) instead of an embedded throwaway one [env: {DATABASE_URL_ENV}]. "
                   "The app gets it as DATABASE_URL, unchanged; fixer itself never connects to it.")
@click.option("--python", "python", type=click.Path(dir_okay=False, path_type=Path),
              help="Run the backend with this interpreter (it must have the requirements and uvicorn) "
                   "instead of a virtualenv made from the requirements.")
@click.option("--entrypoint", metavar="MODULE:ATTR", help="The app for uvicorn [default: from README, Dockerfile, "
              "Procfile or uvicorn.run(...), else src.main:app, app.main:app, main:app].")
@click.option("--probe", "probes", multiple=True, metavar="PATH", help="GET this path once started; repeatable "
              "[default: /health]. The first one decides when the server is healthy.")
@click.option("--timeout", type=click.FloatRange(min=1), metavar="SECONDS", default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds for the server to become healthy before it is killed.")
@click.option("--max-startup", type=click.FloatRange(min=0), metavar="SECONDS", default=DEFAULT_MAX_STARTUP, show_default=True,
              help="Fail when healthy later than this many seconds (the seed plan's budget).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), envvar=CACHE_ENV,
              help=f"Where virtualenvs are cached [env: {CACHE_ENV}; default: $XDG_CACHE_HOME/fixer/venvs "
                   "or ~/.cache/fixer/venvs].")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write an audit report (JSON) with a verification section here.")
@click.option("-v", "--verbose", is_flag=True, help="Show pip's and the backend's whole output, and tracebacks.")
def verify_command(path: Path, database_url, python, entrypoint, probes, timeout, max_startup, cache_dir,
                   report_path, verbose) -> None:
    """Prove the backend at PATH starts: install its requirements, boot it with uvicorn against a real
    PostgreSQL, wait for "Application startup complete", probe /health. PASS exits 0, FAIL exits 1."""
    code = _handle_errors(verbose, lambda: verify_and_print(
        path, report_path=report_path, verbose=verbose, database_url=database_url, python=python,
        entrypoint=entrypoint, probes=probes or ("/health",), timeout=timeout, max_startup=max_startup,
        cache_dir=cache_dir,
    ))
    sys.exit(code)


def verify_after_apply(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate `fixer apply` (under @main.command("apply"), above the shared options) with `--verify`.

    After apply has written (and exited 0 or 1), verifies PATH with the defaults (the database from
    FIXER_VERIFY_DATABASE_URL if set); adds the verification to --report; exits 1 when verification fails.
    """

    def applied(*args: Any, **kwargs: Any) -> int:
        try:
            outcome = command(*args, **kwargs)
        except SystemExit as exit_:
            return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else EXIT_ERROR)
        return outcome if isinstance(outcome, int) else 0

    @functools.wraps(command)
    def wrapper(*args: Any, verify: bool = False, until_boots: bool = False, **kwargs: Any) -> Any:
        if (verify or until_boots) and str(kwargs.get("report_path")) == "-":  # the verification goes into the file
            raise click.UsageError("`--report -` cannot take the verification: give --report a file with --verify")
        backend = _one_backend(kwargs, "--until-boots" if until_boots else "--verify") if verify or until_boots else None
        if until_boots:
            sys.exit(_until_boots(applied, args, kwargs, backend))
        code = applied(*args, **kwargs)
        if verify and code in (EXIT_PASS, EXIT_FAIL):
            verbose = bool(kwargs.get("verbose"))
            root = backend
            verified = _handle_errors(verbose, lambda: verify_and_print(
                root, report_path=kwargs.get("report_path"), verbose=verbose,
                fresh_report=False, database_url=os.environ.get(DATABASE_URL_ENV) or None,
            ))
            code = max(code, verified) if verified != EXIT_INTERRUPTED else verified
        sys.exit(code)

    params = list(getattr(command, "__click_params__", []))
    wrapper.__click_params__ = params  # type: ignore[attr-defined]
    wrapper = click.option(
        "--until-boots", is_flag=True,
        help="Apply, verify, and apply again what the next run finds, until the backend boots and no route answers "
             "5xx, or no fix is left.",
    )(wrapper)
    return click.option(
        "--verify", is_flag=True,
        help="After writing, run `fixer verify PATH`: boot the fixed backend against a throwaway PostgreSQL.",
    )(wrapper)


MAX_ROUNDS = 10


def _tree_state(path: Path) -> dict[str, int]:
    """Each file's size and modification time: whether a round of `apply` wrote anything."""
    from fixer.discover.files import discover

    state = {}
    for rel in discover(path, []):
        try:
            stat = (path / rel).stat()
        except OSError:
            continue
        state[rel] = hash((stat.st_size, stat.st_mtime_ns))
    return state


def _one_backend(kwargs: dict, option: str) -> Path:
    """The one project root apply's paths name, which the boot is about; a usage error, before anything is
    written, when they name several backends or none on disk (a boot proves one backend, not a folder of them)."""
    from fixer.discover.paths import STDIN, TargetError, projects_below, resolve

    paths = list(kwargs.get("paths") or ())
    if STDIN in paths:
        raise click.UsageError(f"{option} boots a backend on disk; it cannot boot stdin (`-`)")
    try:
        runs = resolve(paths)
    except TargetError as error:
        raise click.UsageError(str(error)) from None
    roots = [targets.root for targets in runs]
    if len(roots) == 1 and not (below := projects_below(roots[0])):
        return roots[0]
    named = ", ".join(str(root) for root in roots) if len(roots) > 1 else (
        f"{roots[0]} holds {', '.join(p.relative_to(roots[0]).as_posix() for p in below)}")
    raise click.UsageError(f"{option} boots one backend; these paths name several ({named}): "
                           "run it once per backend")


def _until_boots(applied: Callable[..., int], args: tuple, kwargs: dict, path: Path) -> int:
    """`fixer apply --until-boots`: rounds of apply + verify. A fix can only be seen once the one before it is
    made (the import roots fixed, the modules behind them are read): each round applies what the tree shows
    now, then boots it; it stops when the backend boots, or when a round has nothing left to write."""
    verbose = bool(kwargs.get("verbose"))
    code = EXIT_FAIL
    for round_ in range(1, MAX_ROUNDS + 1):
        _stderr(f"fixer: round {round_}: apply")
        before = _tree_state(path)
        code = applied(*args, **kwargs)
        if code not in (EXIT_PASS, EXIT_FAIL):
            return code
        wrote = _tree_state(path) != before
        _stderr(f"fixer: round {round_}: verify")
        verified = _handle_errors(verbose, lambda: verify_and_print(
            path, report_path=kwargs.get("report_path"), verbose=verbose, fresh_report=False,
            database_url=os.environ.get(DATABASE_URL_ENV) or None,
        ))
        if verified == EXIT_PASS:
            _stderr(f"fixer: the backend boots after {round_} round(s)")
            return max(code, EXIT_PASS)
        if verified != EXIT_FAIL:
            return verified
        if not wrote:
            _stderr(f"fixer: round {round_} had nothing left to fix; the backend still fails `fixer verify` (above)")
            return EXIT_FAIL
    _stderr(f"fixer: stopped after {MAX_ROUNDS} rounds; the backend still fails `fixer verify` (above)")
    return EXIT_FAIL
