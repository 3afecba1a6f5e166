"""`fixer server`: a language server (LSP over stdio, with pygls: `pip install 'fixer[server]'`).

On opening, changing or saving a file it runs fixer on the file's project as the CLI does (`fixer dry-run -
--stdin-filename FILE` with the editor's text: the same settings, model and rules), publishes the file's
findings as diagnostics, and offers each fix as a quick fix whose title says whether it is safe or unsafe
(unsafe fixes are offered too, with the edits `--unsafe-fixes` makes: the person chooses; `fixer apply` would
make only the safe ones).

LSP counts lines from 0 and characters in UTF-16 code units; fixer counts columns from 1 in code points: each
position is converted on the line it is on.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from fixer import __version__, rule_doc_url
from fixer.rules.findings import Severity
from fixer.output.diagnostics import Diagnostic, Position

SEVERITY = {
    Severity.CRITICAL: types.DiagnosticSeverity.Error,
    Severity.HIGH: types.DiagnosticSeverity.Error,
    Severity.MEDIUM: types.DiagnosticSeverity.Warning,
    Severity.LOW: types.DiagnosticSeverity.Information,
}


@dataclass(frozen=True)
class Found:
    diagnostic: types.Diagnostic
    item: Diagnostic
    lines: list[str]


server = LanguageServer("fixer", __version__)
_found: dict[str, list[Found]] = {}  # by document URI: the last run's findings


def check(path: Path, text: str) -> tuple[list[Diagnostic], list[str]]:
    """fixer's findings for `path` holding `text` (judged with its whole project), and the text's lines. An
    unsafe fix (held back by `fixer apply`) comes with the edits a run with `--unsafe-fixes` makes for it."""
    from dataclasses import replace

    safe_run, lines = _run(path, text, unsafe_fixes=False)
    if not any(item.status == "unsafe" for item in safe_run):
        return safe_run, lines
    unsafe_run, _ = _run(path, text, unsafe_fixes=True)
    made = {(item.finding.rule, item.start.line): item.edits for item in unsafe_run if item.edits}
    return [
        replace(item, edits=made.get((item.finding.rule, item.start.line), ())) if item.status == "unsafe" else item
        for item in safe_run
    ], lines


def _run(path: Path, text: str, unsafe_fixes: bool) -> tuple[list[Diagnostic], list[str]]:
    from fixer.apply import runner
    from fixer.discover.config import load, per_file_skip
    from fixer.apply.changes import old_lines
    from fixer.output.formats import collect
    from fixer.discover.paths import resolve
    from fixer.rules.registry import PYTHON_CODEMODS, TEXT_RULES
    from fixer.rules.registry import select as select_rules

    [targets] = resolve(["-"], str(path), stdin=io.BytesIO(text.encode("utf-8")))  # stdin: one project
    config = load(targets.root)
    chosen = {rule.id for rule in select_rules(config.select, config.ignore)}
    outcome = runner.run(
        targets.root,
        codemods=[c for c in PYTHON_CODEMODS if c.RULE_ID in chosen],
        text_rules=[r() for r in TEXT_RULES if r.RULE_ID in chosen],
        exclude=[(config.folder, pattern) for pattern in config.exclude],
        targets=targets,
        unsafe_fixes=unsafe_fixes,
        skip=per_file_skip(config, targets.root, lambda tokens: {rule.id for rule in select_rules(tokens)}),
    )
    rel = next(iter(targets.files))
    mine = [r for r in outcome.results if r.path == rel]
    lines = old_lines(mine[0]) if mine else text.splitlines(keepends=True)
    return collect(mine, applied=False).items, lines


def _position(position: Position, lines: list[str]) -> types.Position:
    text = lines[position.line - 1] if 0 < position.line <= len(lines) else ""
    before = text[: position.column - 1]
    return types.Position(line=position.line - 1, character=len(before.encode("utf-16-le")) // 2)


def _range(start: Position, end: Position, lines: list[str]) -> types.Range:
    return types.Range(start=_position(start, lines), end=_position(end, lines))


def _diagnostic(item: Diagnostic, lines: list[str]) -> types.Diagnostic:
    safety = "" if not item.edits else " (unsafe fix)" if item.status == "unsafe" else " (safe fix)"
    return types.Diagnostic(
        range=_range(item.start, item.end, lines),
        message=f"{item.message}{safety}",
        severity=SEVERITY[item.finding.severity],
        code=item.finding.rule,
        code_description=types.CodeDescription(href=rule_doc_url(item.finding.rule)),
        source="fixer",
    )


def _path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


def publish(ls: LanguageServer, uri: str) -> None:
    path = _path(uri)
    if path is None:
        return
    document = ls.workspace.get_text_document(uri)
    try:
        items, lines = check(path, document.source)
    except Exception as error:  # a run that fails must not take the editor's server down
        ls.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=f"fixer: {error}"))
        items, lines = [], []
    _found[uri] = [Found(_diagnostic(item, lines), item, lines) for item in items]
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, version=document.version, diagnostics=[f.diagnostic for f in _found[uri]])
    )


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _opened(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    publish(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _changed(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    publish(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _saved(ls: LanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    publish(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _closed(ls: LanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    _found.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
def _actions(ls: LanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    actions = []
    for found in _found.get(uri, []):
        if not found.item.edits or not _overlaps(found.diagnostic.range, params.range):
            continue
        safe = found.item.status != "unsafe"
        edits = [types.TextEdit(range=_range(e.start, e.end, found.lines), new_text=e.content) for e in found.item.edits]
        actions.append(types.CodeAction(
            title=f"fixer: fix {found.item.finding.rule} ({'safe' if safe else 'unsafe'} fix)",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[found.diagnostic],
            is_preferred=safe,
            edit=types.WorkspaceEdit(changes={uri: edits}),
        ))
    return actions


def main() -> None:
    server.start_io()
