"""The CLI options that shape what `dry-run` and `apply` print, and how they exit.

`output_options` adds them to a command and keeps their values in the click context, so a command's own
signature does not change: it calls `emit` for its product (stdout or `-o FILE`), `say` for what it tells
the person (stderr, silenced by `-q`), and returns its exit code, which `--exit-zero` and
`--exit-non-zero-on-fix` then adjust.
"""

from __future__ import annotations

import functools
import os
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import click

from fixer.rules.findings import FileResult, Severity
from fixer.output.formats import FORMATS, collect, render

_KEY = "fixer.output"
EXIT_PENDING = 1


@dataclass
class Settings:
    output_format: str = "text"
    output_file: Path | None = None
    statistics: bool = False
    exit_zero: bool = False
    exit_non_zero_on_fix: bool = False
    quiet: bool = False
    root_relative: bool = False  # paths from the project root, not from the working folder
    report_on_stdout: bool = False  # `--report -`: the report is what stdout carries
    wrote: bool = False  # apply wrote at least one file


def settings() -> Settings:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.setdefault(_KEY, Settings()) if ctx is not None else Settings()


def color_choice(mode: str) -> bool | None:
    """True/False, or None for "on a terminal" (click decides per stream). NO_COLOR and FORCE_COLOR as ruff."""
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return None


def output_options(func: Callable[..., int] | None = None, *, fixes_written: bool = False):
    """`fixes_written`: the command writes fixes (apply), so `--exit-non-zero-on-fix` is offered."""
    if func is None:
        return functools.partial(output_options, fixes_written=fixes_written)

    @click.option("--output-format", type=click.Choice(FORMATS), default="text", show_default=True,
                  help="text: the patch (dry-run) or the files written (apply); json, json-ruff (ruff's layout), "
                       "github, sarif, gitlab, markdown, rdjson (reviewdog), junit: every finding with its fix.")
    @click.option("-o", "--output-file", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
                  help="Write the output to this file instead of stdout.")
    @click.option("--statistics", is_flag=True, help="Print how many findings each rule has, instead of the output.")
    @click.option("--exit-zero", is_flag=True,
                  help="Exit 0 even with fixes pending or issues left for a person (errors still exit 2).")
    @click.option("-q", "--quiet", is_flag=True, help="Print nothing on stderr but errors.")
    @click.option("--root-relative", is_flag=True,
                  help="Paths (patch headers, messages, every format) from the project root instead of the current folder.")
    @click.option("--color", "color", type=click.Choice(["auto", "always", "never"]), default="auto",
                  show_default=True, help="Colour the patch and the messages; auto: on a terminal, unless NO_COLOR.")
    @functools.wraps(func)
    def wrapper(**kwargs) -> int:
        ctx = click.get_current_context()
        chosen = Settings(
            output_format=kwargs.pop("output_format"),
            output_file=kwargs.pop("output_file"),
            statistics=kwargs.pop("statistics"),
            exit_zero=kwargs.pop("exit_zero"),
            exit_non_zero_on_fix=kwargs.pop("exit_non_zero_on_fix", False),
            quiet=kwargs.pop("quiet"),
            root_relative=kwargs.pop("root_relative"),
        )
        if chosen.output_file is not None and str(chosen.output_file) == "-":
            chosen.output_file = None
        if chosen.output_file is not None and not chosen.output_file.resolve().parent.is_dir():
            # Before the run, not after it: apply would have written the fixes and then fail.
            raise click.UsageError(f"cannot write the output to {chosen.output_file}: its folder does not exist")
        ctx.meta[_KEY] = chosen
        ctx.color = color_choice(kwargs.pop("color"))
        code = func(**kwargs)
        if chosen.exit_non_zero_on_fix and chosen.wrote and code == 0:
            code = EXIT_PENDING
        if chosen.exit_zero and code == EXIT_PENDING:
            code = 0
        return code

    if fixes_written:
        wrapper = click.option(
            "--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when files were written, even if nothing is left."
        )(wrapper)
    return wrapper


def check_report_on_stdout(report_path: Path | None) -> bool:
    """`--report -`: the report goes to stdout, which then carries nothing else (a usage error if it must)."""
    if report_path is None or str(report_path) != "-":
        return False
    chosen = settings()
    if chosen.output_file is None and (chosen.output_format != "text" or chosen.statistics):
        raise click.UsageError("`--report -` and the output would share stdout: send one of them to a file (-o FILE)")
    chosen.report_on_stdout = True
    return True


def say(message: str) -> None:
    """A word to the person on stderr, unless `-q`."""
    if not settings().quiet:
        click.echo(message, err=True)


def emit(results: list[FileResult], root: Path, applied: bool, text: Callable[[BinaryIO, bool], None]) -> None:
    """The command's product: `text(stream, coloured)` for the text format, else the chosen format."""
    chosen = settings()
    if chosen.report_on_stdout and chosen.output_file is None:
        return
    try:
        with _stream(chosen.output_file) as out:
            if chosen.statistics:
                out.write(statistics(results, applied, json_format=chosen.output_format == "json").encode())
            elif chosen.output_format == "text":
                text(out, _coloured(out))
            else:
                out.write(render(chosen.output_format, collect(results, applied, path_prefix(root))).encode())
            out.flush()
    except BrokenPipeError:
        # `| head` has read what it wanted: not an error. Python would report the pipe again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class _stream:
    def __init__(self, path: Path | None) -> None:
        self.path = path

    def __enter__(self) -> BinaryIO:
        self.file = open(self.path, "wb") if self.path is not None else None  # noqa: SIM115 - closed in __exit__
        return self.file or sys.stdout.buffer

    def __exit__(self, *exc) -> None:
        if self.file is not None:
            self.file.close()


def _coloured(out: BinaryIO) -> bool:
    ctx = click.get_current_context(silent=True)
    choice = ctx.color if ctx is not None else None
    if choice is not None:
        return choice
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def display_prefix(root: Path) -> str:
    """The scanned folder as paths in the outputs start (relative to the working folder, POSIX): the files
    GitHub and GitLab annotate are named from the repository's root, where CI runs."""
    absolute = root.resolve()
    try:
        relative = absolute.relative_to(Path.cwd().resolve())
    except ValueError:
        return absolute.as_posix()
    return "" if relative == Path(".") else relative.as_posix()


def path_prefix(root: Path, patch: bool = False) -> str:
    """What every path shown starts with: the project root as seen from the working folder, as ruff shows
    paths ("" with `--root-relative`). A patch applies from the folder it names paths from, and `git apply`
    takes no path that leaves it: for a root outside the working folder, a patch's paths are root-relative."""
    if settings().root_relative:
        return ""
    prefix = display_prefix(root)
    if patch and Path(prefix).is_absolute():
        return ""
    return prefix


def shown(root: Path | None, rel: str, prefix: str | None = None) -> str:
    """`rel` (relative to the project root) as the person is shown it."""
    if prefix is None:
        prefix = path_prefix(root) if root is not None else ""
    return f"{prefix}/{rel}" if prefix else rel


def statistics(results: list[FileResult], applied: bool, json_format: bool = False) -> str:
    """Findings per rule, most first (ruff's `--statistics`): count, rule, [*] when fixer fixes them, name."""
    import json

    from fixer.rules.registry import all_rules

    names = {rule.id: rule.name for rule in all_rules()}
    found = [f for r in results if r.error is None for f in r.findings]
    counts = Counter(f.rule for f in found)
    fixable = {f.rule for f in found if f.fixed}
    rows = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    if json_format:
        return json.dumps(
            [{"code": rule, "name": names.get(rule, ""), "count": n, "fixable": rule in fixable} for rule, n in rows],
            indent=2,
        ) + "\n"
    width = max((len(str(n)) for n in counts.values()), default=1)
    return "".join(f"{n:>{width}}\t{rule}\t{'[*]' if rule in fixable else '[ ]'} {names.get(rule, '')}\n" for rule, n in rows)


_PATCH_STYLES = ((b"+++", {"bold": True}), (b"---", {"bold": True}), (b"@@", {"fg": "cyan"}),
                 (b"+", {"fg": "green"}), (b"-", {"fg": "red"}))


def colour_patch(data: bytes) -> bytes:
    """The patch with ANSI colours for a terminal: headers bold, hunk ranges cyan, + green, - red."""
    out = []
    for line in data.splitlines(keepends=True):
        body, end = (line[:-1], b"\n") if line.endswith(b"\n") else (line, b"")
        style = next((s for prefix, s in _PATCH_STYLES if body.startswith(prefix)), None)
        if style is None:
            out.append(line)
            continue
        start, stop = click.style("\0", **style).encode().split(b"\0")
        out.append(start + body + stop + end)
    return b"".join(out)


SEVERITY_STYLE = {
    Severity.CRITICAL: {"fg": "red", "bold": True},
    Severity.HIGH: {"fg": "red"},
    Severity.MEDIUM: {"fg": "yellow"},
    Severity.LOW: {"fg": "cyan"},
}


def severity_style(text: str, severity: Severity) -> str:
    """`text` coloured by severity (click.echo drops the colour where colour is off)."""
    return click.style(text, **SEVERITY_STYLE[severity])
