"""One Python file through the codemods: parsed once, each codemod run in turn on the one tree, suppressions
honoured, findings given the lines they are about, and the result checked to parse before it may be written."""

from __future__ import annotations

import bisect
import itertools
import posixpath
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fixer.apply.reprint import reprint
from fixer.discover import suppress
from fixer.model import ProjectModel
from fixer.rules.base import FixerCodemod
from fixer.rules.findings import FileResult, Finding

if TYPE_CHECKING:
    import libcst as cst

Settings = tuple[ProjectModel, bool]  # what every file's transform gets besides the file: facts, lines_of_fixed


_TOO_DEEP_FOR_LIBCST = "cannot fix it: nested too deeply for LibCST's tree walk (RecursionError); left as it is"


def _matters(result: FileResult) -> bool:
    return result.matters


def transform_task(settings: Settings, task: tuple) -> FileResult | None:
    try:
        result = transform_python(*task, *settings)
    except RecursionError:  # LibCST walks its trees recursively: a 3,000-term expression is too deep for it
        result = _skipped(task, _TOO_DEEP_FOR_LIBCST)
    except Exception as error:  # a bug met on one file costs that file, never the run
        result = _skipped(task, f"internal error: {type(error).__name__}: {error}; left as it is")
        result.traceback = traceback.format_exc()
    return result if _matters(result) else None  # nothing to send back for a file with nothing to say


def died(task: tuple, cause: str) -> FileResult:
    return _skipped(task, f"the process fixing it was {cause}; left as it is")


def _skipped(task: tuple, error: str) -> FileResult:
    rel, source = task[0], task[1]
    return FileResult(path=rel, old=source, new=source, error=error)


def transform_python(
    rel: str, source: bytes, codemods: Sequence[type[FixerCodemod]], facts: ProjectModel, lines_of_fixed: bool = True
) -> FileResult:
    """Parse once, run each codemod on the tree in turn, and check the result parses."""
    import libcst as cst
    from libcst.codemod import CodemodContext, SkipFile

    from fixer.rules.base import FINDINGS_KEY

    result = FileResult(path=rel, old=source, new=source)
    refused = _too_deep(source)
    if refused is not None:
        result.error = f"cannot parse: {refused}; left as it is"
        return result
    try:
        module = parsed = cst.parse_module(source)
    except (cst.ParserSyntaxError, UnicodeDecodeError, SyntaxError, LookupError) as error:
        result.error = f"cannot parse: {_cpython_says(source) or str(error).splitlines()[0]}; left as it is"
        return result
    text = source.decode(module.encoding, errors="replace")
    suppressions = suppress.parse(text, python=True) if suppress.MARKER.search(source) else suppress.Suppressions()
    lines_of_fixed = lines_of_fixed or bool(suppressions)  # a suppression is matched on the finding's line
    result.encoding = "utf-8" if module.encoding == "utf-8-sig" else module.encoding
    package = posixpath.dirname(rel).replace("/", ".")
    for codemod in codemods:
        context = CodemodContext(
            filename=rel,
            full_module_name=rel[: -len(".py")].replace("/", ".").removesuffix(".__init__"),
            full_package_name=package or None,
        )
        received = module
        try:
            module = codemod(context, facts=facts).transform_module(module)
        except SkipFile:
            continue
        except RecursionError:
            result.error = _TOO_DEEP_FOR_LIBCST
            result.findings.clear()
            return result
        except Exception as error:  # a codemod's bug skips this file, never the run
            result.error = f"internal error in {codemod.RULE_ID}: {type(error).__name__}: {error}; left as it is"
            result.traceback = traceback.format_exc()
            result.findings.clear()
            return result
        found = locate(context.scratch.get(FINDINGS_KEY, []), text, received, lines_of_fixed)
        if suppressions.touches(codemod.RULE_ID):
            module, found = _honour_in_python(suppressions, codemod, context, facts, received, module, found, text, result)
        result.findings.extend(found)
    if module is parsed:  # an untouched tree prints back as its source
        return result
    printed = reprint(parsed, module, text)
    new = printed.code.encode(module.encoding)
    if new != source:
        # The statements that changed are checked, not the whole module: a module is a sequence of
        # top-level statements, each ending in its newline, and the others are the source's own.
        error = _parse_error(printed.new, printed.old)
        if error is not None:
            result.error = f"internal error: the fixed file does not parse ({error}); left as it is"
            result.findings.clear()
            return result
        if not any(finding.fixed for finding in result.findings):
            # Every hunk must belong to a finding a reviewer can read: an unexplained edit is a bug, not a fix.
            result.error = "internal error: an edit no finding explains; left as it is"
            return result
        result.new = new
    return result


def _honour_in_python(
    suppressions: suppress.Suppressions,
    codemod: type[FixerCodemod],
    context,
    facts: ProjectModel,
    received: cst.Module,
    module: cst.Module,
    found: list[Finding],
    text: str,
    result: FileResult,
) -> tuple[cst.Module, list[Finding]]:
    """The tree and findings of `codemod` once suppressions are honoured. Where a suppressed finding came with an
    edit, the codemod runs again without walking the top-level statements that carry a suppression comment for
    it (the suppression's own, so nothing of the rule's state, helpers or imports comes from there); its other
    findings in those statements are left for a person. If the suppressed lines still changed (a rule that does
    not walk statement by statement), the rule makes no edit in this file at all."""
    from libcst.codemod import CodemodContext

    from fixer.rules.base import FINDINGS_KEY

    rule = codemod.RULE_ID
    kept = [f for f in found if not suppressions.covers(rule, f.line)]
    dropped = [f for f in found if suppressions.covers(rule, f.line)]
    result.suppressed.extend(dropped)
    if not any(f.fixed for f in dropped) or module is received:
        return module, kept
    if suppressions.file_wide(rule):
        return received, [_not_made(f, "the file's `fixer: ignore-file` comment") for f in kept]
    frozen = {id(s) for s in received.body if suppress.parse(received.code_for_node(s)).touches(rule)}
    again = CodemodContext(filename=context.filename, full_module_name=context.full_module_name,
                           full_package_name=context.full_package_name)
    instance = codemod(again, facts=facts)
    walks = instance.enters
    instance.enters = lambda statement: id(statement) not in frozen and walks(statement)  # type: ignore[method-assign]
    rerun = instance.transform_module(received)
    still = locate(again.scratch.get(FINDINGS_KEY, []), text, received, True)
    lines = text.splitlines()
    printed = rerun.code
    kept_names = _names_in([s for s in received.body if id(s) in frozen])
    unbound = (_imported(received) - _imported(rerun)) & kept_names  # e.g. the import of the kept create_engine
    if unbound or any(f.line and lines[f.line - 1] not in printed for f in dropped if f.fixed):
        return received, [_not_made(f, "a `fixer: ignore` comment on this rule elsewhere in the file") for f in kept]
    made = {(f.line, f.problem) for f in still}
    left = [
        _not_made(f, "a `fixer: ignore` comment in the same statement")
        for f in kept
        if f.fixed and (f.line, f.problem) not in made
    ]
    return rerun, [f for f in still if not suppressions.covers(rule, f.line)] + left


def _imported(module: cst.Module) -> set[str]:
    """The names the module's top-level imports bind."""
    import libcst as cst

    names = set()
    for statement in module.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname else alias.name
                    names.add(module.code_for_node(bound).partition(".")[0])
    return names


def _names_in(statements: list) -> set[str]:
    import libcst as cst

    class Names(cst.CSTVisitor):
        def __init__(self) -> None:
            self.found: set[str] = set()

        def visit_Name(self, node: cst.Name) -> None:
            self.found.add(node.value)

    names = Names()
    for statement in statements:
        statement.visit(names)
    return names.found


def _not_made(finding: Finding, why: str) -> Finding:
    from dataclasses import replace

    if not finding.fixed:
        return finding
    return replace(finding, fixed=False, problem=f"{finding.problem} (not fixed: {why} keeps it as it is)")


def honour_in_text(
    suppressions: suppress.Suppressions,
    rule: str,
    before: str,
    after: str,
    found: list[Finding],
    result: FileResult,
) -> tuple[str, list[Finding]]:
    """A text rule's edit and findings once suppressions are honoured: text rules edit line by line, so the
    changed lines that hold a suppressed finding (or sit under its comment) are put back as they were."""
    import difflib

    dropped = [f for f in found if suppressions.covers(rule, f.line)]
    kept = [f for f in found if not suppressions.covers(rule, f.line)]
    result.suppressed.extend(dropped)
    if after is before or not any(f.fixed for f in dropped):
        return after, kept
    if suppressions.file_wide(rule):
        return before, [_not_made(f, "the file's `fixer: ignore-file` comment") for f in kept]
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    out: list[str] = []
    reverted: list[range] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        lines = range(i1 + 1, i2 + 1)
        if tag != "equal" and any(suppressions.covers(rule, line) for line in lines):
            out.extend(old[i1:i2])
            reverted.append(lines)
        else:
            out.extend(new[j1:j2] if tag != "equal" else old[i1:i2])
    kept = [
        _not_made(f, "a `fixer: ignore` comment next to it") if any(f.line in r for r in reverted) else f for f in kept
    ]
    return "".join(out), kept


_NOT_BRACKETS = bytes(set(range(256)) - set(b"()[]{}"))
_STEPS = bytes.maketrans(b"([{)]}", b"\x02\x02\x02\x00\x00\x00")  # less one each: an opening +1, a closing -1
_DEEP = 100  # brackets open at once; CPython refuses more than 200, LibCST's parser crashes near 1,300


def _too_deep(source: bytes) -> str | None:
    """Why CPython refuses `source` as nested too deeply, or None. LibCST's native parser does not refuse
    such code, it crashes the process on it (a segmentation fault, 1,500 nested brackets in generated
    data): CPython's parser answers first, and cheaply. Only asked of a file where the brackets, counted
    as bytes (strings and comments too), reach `_DEEP`: the rest cannot be that deep in brackets."""
    brackets = source.translate(None, _NOT_BRACKETS)
    if len(brackets) < _DEEP or max(itertools.accumulate(step - 1 for step in brackets.translate(_STEPS))) < _DEEP:
        return None
    import ast

    try:
        ast.parse(source)
    except SyntaxError as error:
        return error.msg if "nested" in error.msg or "too complex" in error.msg else None
    except (RecursionError, MemoryError):  # what ast.parse raises on nesting too deep for its own stack
        return "nested too deeply"
    except ValueError:  # NUL bytes: for LibCST to report
        return None
    return None


def _cpython_says(source: bytes) -> str | None:
    """CPython's own words for a file LibCST cannot parse (`Missing parentheses in call to 'print'` for
    Python 2 code, where LibCST says `Syntax Error @ 2:1`), or None when CPython reads it."""
    import ast

    try:
        ast.parse(source)
    except SyntaxError as error:
        return f"{error.msg} (line {error.lineno})"
    except Exception:  # noqa: BLE001 - LibCST's words then
        return None
    return None


def _parse_error(new: str, old: str) -> str | None:
    """Why `new` is not valid Python, or None. CPython's own parser answers in a tenth of LibCST's time; only
    code CPython cannot read even before the fix (syntax newer than this interpreter) needs LibCST's."""
    import ast

    try:
        ast.parse(new)
        return None
    except Exception as error:  # SyntaxError, ValueError (NUL bytes), RecursionError (deep nesting)
        first = error
    try:
        ast.parse(old)
    except Exception:
        import libcst as cst

        try:
            cst.parse_module(new)
            return None
        except Exception as error:
            return str(error).splitlines()[0]
    return str(first)


def locate(
    findings: list[Finding], text: str, received: cst.Module | None = None, lines_of_fixed: bool = True
) -> list[Finding]:
    """Give findings without a line the line where their old code starts in the original text.

    A codemod that runs after another sees code the earlier one already changed (FX004 reports the
    `create_async_engine` call FX002 made): such code is found in the tree it received, and its line is
    carried back to the original through a line diff. That prints the tree again, the price of a whole
    codemod pass: for a fixed finding it is paid only when `lines_of_fixed` asks.
    """
    from dataclasses import replace

    original = _Lines(text)
    later_lines: _Lines | None = None
    opcodes: list[tuple[str, int, int, int, int]] = []
    ends: list[int] = []  # each opcode's j2, increasing: where to start looking for a line's opcode
    located = []
    for finding in findings:
        if finding.line is None and finding.old_code:
            first = finding.old_code.splitlines()[0]
            line = original.line_of(first)
            if line is None and received is not None and (lines_of_fixed or not finding.fixed):
                if later_lines is None:
                    later_lines = _Lines(received.code)
                later = later_lines.line_of(first)
                if later is not None:
                    if not ends:  # once per codemod: a diff costs what the file's length does
                        from fixer.apply.changes import line_opcodes

                        opcodes = line_opcodes(text.splitlines(), later_lines.text.splitlines())
                        ends = [op[4] for op in opcodes]
                    for tag, i1, i2, j1, j2 in itertools.islice(opcodes, bisect.bisect_left(ends, later - 1), None):
                        if j1 < later <= j2 or (j1 == j2 == later - 1):
                            line = i1 + 1 + (later - 1 - j1 if tag == "equal" else 0)
                            break
            if line is not None:
                finding = replace(finding, line=line)
        located.append(finding)
    return located


class _Lines:
    """Line numbers of fragments of one text. Findings come mostly in the order of the code they are about,
    so each search starts where the last one matched (a search from the top for each of thousands of
    findings in a large module was quadratic), just after it for the same fragment again (the same defect
    repeated further down); a fragment not found there is looked for from the top."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at, self.line, self.fragment = 0, 1, ""  # where the last match began, its line, what it matched

    def line_of(self, fragment: str) -> int | None:
        at = self.text.find(fragment, self.at + (fragment == self.fragment))
        if at < 0:
            at = self.text.find(fragment)
            if at < 0:
                return None
            self.at, self.line = 0, 1
        self.line += self.text.count("\n", self.at, at)
        self.at, self.fragment = at, fragment
        return self.line
