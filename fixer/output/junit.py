"""`--output-format junit`: JUnit XML, as CI test reports read it (GitLab `artifacts: reports: junit`, Jenkins,
Azure): a test suite per file, a failing test case per finding, an error per file fixer could not read. A
run with nothing to report is one passing case, as ruff writes it, so that the report is never empty."""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from collections import defaultdict

from fixer.output.diagnostics import Diagnostic, Diagnostics



def render(diagnostics: Diagnostics) -> str:
    by_file: dict[str, list[Diagnostic]] = defaultdict(list)
    for item in diagnostics.items:
        by_file[item.path].append(item)
    # A note is no defect: a skipped case, so CI test reports stay green on it.
    failures, errors = sum(1 for i in diagnostics.items if i.status != "note"), len(diagnostics.skipped)
    root = ET.Element("testsuites", name="fixer", tests=str(max(len(diagnostics.items) + errors, 1)),
                      failures=str(failures), errors=str(errors))
    for path in sorted(by_file):
        items = by_file[path]
        notes = sum(1 for i in items if i.status == "note")
        suite = ET.SubElement(root, "testsuite", name=path, tests=str(len(items)), failures=str(len(items) - notes),
                              errors="0", skipped=str(notes))
        for item in items:
            case = ET.SubElement(suite, "testcase", name=f"fixer.{item.finding.rule}",
                                 classname=posixpath.splitext(path)[0], file=path,
                                 line=str(item.start.line), column=str(item.start.column))
            failure = ET.SubElement(case, "skipped" if item.status == "note" else "failure", message=item.message,
                                    type=item.finding.rule)
            failure.text = f"line {item.start.line}, col {item.start.column}, {item.worded}"
    for skipped in diagnostics.skipped:
        suite = ET.SubElement(root, "testsuite", name=skipped.path, tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", name="fixer.skipped", classname=skipped.path, file=skipped.path)
        ET.SubElement(case, "error", message=skipped.message).text = skipped.message
    if not diagnostics.items and not errors:
        suite = ET.SubElement(root, "testsuite", name="fixer", tests="1", failures="0", errors="0", skipped="0")
        ET.SubElement(suite, "testcase", name="No issues found", classname="fixer")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
