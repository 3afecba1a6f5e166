"""Formats read by a parser instead of line regexes: compose files with ruamel.yaml (its structure, every node's
line), requirements files as pip reads them (options, hashes, `-r`/`-c` kept); every import fixer makes is a
dependency it declares."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from fixer.discover.compose import environment_lines
from fixer.discover.config import read_toml
from fixer.rules.findings import Category, Finding, Severity
from fixer.discover.requirements import entries, logical_lines, physical_lines
from fixer.rules.dependency_edit import Change, edit

REPO = Path(__file__).resolve().parent.parent

COMPOSE = """\
x-env: &env
  DATABASE_URL: postgres://u:p@db/app   # shared through the anchor
  LOG_LEVEL: info
services:
  api:
    build: .
    environment:
      <<: *env
      READ_URL: postgres://u:p@replica/app
    command: |
      echo "environment:"
      echo "  DATABASE_URL: postgres://not/an/entry"
  migrate:
    environment: [ "MIGRATE_URL=postgres://u:p@db/app" ]
    build: {context: .}
  hasura:
    environment:
      HASURA_GRAPHQL_DATABASE_URL: postgres://u:p@db/app
    image: hasura/graphql-engine:v2
"""


def test_compose_environment_comes_from_the_yaml_structure() -> None:
    lines = COMPOSE.splitlines()
    found = sorted(lines[n].strip() for n in environment_lines(COMPOSE))
    assert found == sorted([
        "DATABASE_URL: postgres://u:p@db/app   # shared through the anchor", "LOG_LEVEL: info",
        "READ_URL: postgres://u:p@replica/app",
        'environment: [ "MIGRATE_URL=postgres://u:p@db/app" ]',  # a flow sequence: its entries are on this line
    ])
    # A block scalar that reads like an environment block is a string; `image:` after `environment:` still makes
    # hasura a third-party service; the merge key `<<` is not an entry of its own.


def test_requirements_keep_options_hashes_and_includes() -> None:
    text = ("-r base.txt\r\n-c constraints.txt\r\n--index-url https://pypi.org/simple\r\n"
            "asyncpg==0.30.0 \\\r\n    --hash=sha256:aaaa \\\r\n    --hash=sha256:bbbb\r\n"
            "psycopg2-binary>=2.9  # the driver\r\nrequests[socks]>=2 ; python_version < \"3.12\"")
    assert list(entries(text)) == [
        ("include", "base.txt"), ("constraint", "constraints.txt"), ("req", "asyncpg==0.30.0"),
        ("req", "psycopg2-binary>=2.9"), ("req", 'requests[socks]>=2 ; python_version < "3.12"'),
    ]
    hashed = logical_lines(physical_lines(text))[3]
    assert (hashed.start, hashed.end) == (3, 6)  # the three physical lines of one requirement
    # A line edit rewrites the requirement's own line; options, includes, comments and CRLF stay as they were.
    plain = text.replace("asyncpg==0.30.0 \\\r\n    --hash=sha256:aaaa \\\r\n    --hash=sha256:bbbb\r\n", "")
    change = Change("set", "psycopg2-binary", ">=2.9.10", finding=_finding)
    new, [finding] = edit("requirements.txt", plain, [change])
    assert new == plain.replace("psycopg2-binary>=2.9  # the driver", "psycopg2-binary>=2.9.10  # the driver")
    assert finding.fixed


def _finding(old: str, new: str, line, fixed: bool) -> Finding:
    return Finding(rule="FX001", category=Category.DEPENDENCY, severity=Severity.HIGH, problem="p", root_cause="",
                   old_code=old, new_code=new, explanation="", fixed=fixed, line=line)


def _imports() -> set[str]:
    found = set()
    for path in (REPO / "fixer").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_every_import_is_declared() -> None:
    project = read_toml((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"], *(d for extra in project["optional-dependencies"].values() for d in extra)]
    names = {d.split(";")[0].split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip().lower() for d in declared}
    modules = {name.replace("-", "_").split(".")[0] for name in names}
    undeclared = _imports() - set(sys.stdlib_module_names) - modules - {"fixer"}
    assert undeclared == set(), "imported but not declared in pyproject.toml"
