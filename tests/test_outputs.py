"""`--output-format` on the seed backend: golden outputs, schema validation (SARIF 2.1.0, the JSON output's
own schema), and the markdown review's suggestions giving the same bytes as `fixer apply`."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import tomlkit

from fixer import HOMEPAGE, __version__, rule_doc_url
from fixer.rules.registry import all_rules
from tests.cli_helpers import fixer, tree

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "fixtures" / "seed" / "broken"
GOLDEN = REPO / "tests" / "data" / "outputs"
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"  # OASIS sarif-spec, sarif-2.1/schema/
FORMATS = {"json": "seed.json", "github": "seed.github.txt", "sarif": "seed.sarif", "gitlab": "seed.gitlab.json",
           "markdown": "seed.md", "rdjson": "seed.rdjson", "junit": "seed.junit.xml", "json-ruff": "seed.ruff.json"}
PASSWORDS = (b"npg_Xk7pQ2vLm9Rt", b"postgres:postgres@")
# Set FIXER_UPDATE_GOLDEN=1 to write the goldens from today's output (then read the diff before committing).
UPDATE = bool(os.environ.get("FIXER_UPDATE_GOLDEN"))


def output(fmt: str, *extra: str, cwd: Path = SEED, command: str = "dry-run", path: str = "backend") -> bytes:
    result = fixer(command, path, "--output-format", fmt, *extra, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def untracked_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed outside any git work tree: no file is tracked, so what the outputs hold back does not depend on
    whether the tests run from a checkout (fixer.apply.disclosure)."""
    folder = tmp_path_factory.mktemp("seed")
    shutil.copytree(SEED / "backend", folder / "backend")
    return folder


@pytest.fixture(scope="module")
def outputs(untracked_seed: Path) -> dict[str, bytes]:
    return {fmt: output(fmt, cwd=untracked_seed) for fmt in FORMATS}


def comparable(fmt: str, data: bytes) -> str:
    """The goldens leave out fixer's version, and the SARIF one the rules' help texts: the rule docs change on
    their own (docs/rules)."""
    if fmt == "json":
        out = json.loads(data)
        assert out.pop("version") == __version__
        return json.dumps(out, indent=2) + "\n"
    if fmt != "sarif":
        return data.decode()
    sarif = json.loads(data)
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver.pop("version") == __version__
    for rule in driver["rules"]:
        assert rule.pop("help")["text"] and rule.pop("fullDescription")["text"]
    return json.dumps(sarif, indent=2) + "\n"


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_golden(outputs: dict[str, bytes], fmt: str) -> None:
    golden = GOLDEN / FORMATS[fmt]
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(comparable(fmt, outputs[fmt]), encoding="utf-8")
    assert comparable(fmt, outputs[fmt]) == golden.read_text(encoding="utf-8")
    shown = outputs[fmt]
    if fmt == "sarif":  # the rules' own docs quote example URLs: only what was found must hold no password
        shown = json.dumps(json.loads(shown)["runs"][0]["results"]).encode()
    for secret in PASSWORDS:
        assert secret not in shown


def test_sarif_is_valid_sarif_2_1_0_with_rules_from_the_registry(outputs: dict[str, bytes]) -> None:
    sarif = json.loads(outputs["sarif"])
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(sarif)
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.id for rule in all_rules()]
    for rule in rules:
        assert rule["helpUri"] == f"{HOMEPAGE}/blob/main/docs/rules/{rule['id']}.md"
        assert rule["help"]["text"] and rule["shortDescription"]["text"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    fixed = [r for r in run["results"] if "fixes" in r]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in fixed} == {
        "backend/requirements.txt", "backend/src/core/database.py"}  # .env and config.py: credentials
    replacement = fixed[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement == {
        "deletedRegion": {"startLine": 5, "startColumn": 1, "endLine": 5, "endColumn": 23},
        "insertedContent": {"text": "asyncpg>=0.31"},
    }


def test_json_output_follows_its_schema(outputs: dict[str, bytes]) -> None:
    schema = json.loads(fixer("schema", "json").stdout)
    data = json.loads(outputs["json"])
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["applied"] is False
    assert {d["status"] for d in data["diagnostics"]} == {"fixable", "unsafe"}
    env = next(d for d in data["diagnostics"] if d["filename"] == "backend/.env")
    assert env["fix"]["edits"] is None  # withheld: the file holds a password


def test_apply_json_says_fixed(tmp_path: Path) -> None:
    shutil.copytree(SEED / "backend", tmp_path / "backend")
    data = json.loads(output("json", cwd=tmp_path, command="apply"))
    assert data["applied"] is True
    assert {d["status"] for d in data["diagnostics"]} == {"fixed", "unsafe"}


def _suggestions(markdown: str) -> list[tuple[str, int, int, str]]:
    pattern = re.compile(
        r"^#### `(?P<path>[^`]+)` lines? (?P<start>\d+)(?:-(?P<end>\d+))?\n.*?"
        r"^(?P<fence>`{3,})suggestion\n(?P<body>.*?)^(?P=fence)$",
        re.M | re.S,
    )
    return [
        (m["path"], int(m["start"]), int(m["end"] or m["start"]), m["body"]) for m in pattern.finditer(markdown)
    ]


def test_committing_every_suggestion_gives_what_the_patch_gives(outputs: dict[str, bytes], untracked_seed: Path,
                                                               tmp_path: Path) -> None:
    """The review shows what the patch shows: what would show an untracked password is in neither, and named."""
    import subprocess

    review = outputs["markdown"].decode()
    suggested = Path(shutil.copytree(SEED / "backend", tmp_path / "suggested" / "backend"))
    patched = Path(shutil.copytree(SEED / "backend", tmp_path / "patched" / "backend"))
    found = _suggestions(review)
    assert len(found) >= 4
    for path, start, end, body in sorted(found, key=lambda s: (s[0], -s[1])):  # bottom up: line numbers hold
        target = suggested.parent / path
        lines = target.read_bytes().decode().splitlines(keepends=True)
        lines[start - 1:end] = body.splitlines(keepends=True)
        target.write_bytes("".join(lines).encode())
    patch = fixer("dry-run", "backend", cwd=untracked_seed).stdout
    subprocess.run(["git", "apply", "-"], cwd=patched.parent, input=patch, check=True)  # from where it was made
    assert tree(suggested) == tree(patched) != tree(SEED / "backend")
    for name in (".env", "src/core/config.py"):  # what was left out (a password) is named
        assert f"`backend/{name}`" in review.split("#### Not shown")[1]


def test_links_use_the_project_url() -> None:
    urls = tomlkit.parse((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"].get("urls", {})
    for url in urls.values():
        if url.startswith("https://github.com/"):
            assert url.rstrip("/").removesuffix(".git").startswith(HOMEPAGE)
    assert rule_doc_url("FX004") == f"{HOMEPAGE}/blob/main/docs/rules/FX004.md"


def test_output_file_and_report_on_stdout(tmp_path: Path) -> None:
    target = tmp_path / "out.sarif"
    result = fixer("dry-run", "backend", "--output-format", "sarif", "-o", target, cwd=SEED)
    assert result.returncode == 1 and result.stdout == b""
    assert json.loads(target.read_text())["version"] == "2.1.0"

    report = fixer("dry-run", "backend", "--report", "-", cwd=SEED)
    data = json.loads(report.stdout)  # the report alone: no patch around it
    assert data["issues"] and all(issue["fixed"] is False for issue in data["issues"])
    assert not (SEED / "-").exists()
    both = fixer("dry-run", "backend", "--report", "-", "--output-format", "json", cwd=SEED)
    assert both.returncode == 2 and b"share stdout" in both.stderr


def test_dry_run_report_says_nothing_was_fixed_and_apply_report_does(tmp_path: Path) -> None:
    backend = Path(shutil.copytree(SEED / "backend", tmp_path / "backend"))
    fixer("dry-run", backend, "--report", tmp_path / "dry.json")
    dry = json.loads((tmp_path / "dry.json").read_text())
    assert [i["fixed"] for i in dry["issues"]] == [False] * len(dry["issues"])
    assert sum(i["fix_available"] and i["fix_safety"] == "safe" for i in dry["issues"]) == 7
    assert dry["recommendations"][0]["description"].startswith("Run `fixer apply` to write the 7 fixes")
    fixer("apply", backend, "--report", tmp_path / "applied.json")
    applied = json.loads((tmp_path / "applied.json").read_text())
    assert sum(i["fixed"] for i in applied["issues"]) == 7


def test_apply_markdown_shows_what_was_written_as_diffs(tmp_path: Path) -> None:
    shutil.copytree(SEED / "backend", tmp_path / "backend")
    review = output("markdown", cwd=tmp_path, command="apply").decode()
    assert review.startswith("### fixer wrote 7 fix(es) in 4 file(s)\n")
    assert "```suggestion" not in review
    assert "```diff\n email-validator>=2.2.0\n+sqlalchemy[asyncio]>=2.0\n```" in review


def test_a_fence_longer_than_any_backtick_run_in_the_code() -> None:
    from fixer.output.markdown import fenced

    assert fenced("suggestion", "x = '```'\n") == "````suggestion\nx = '```'\n````"
    assert fenced("suggestion", "") == "```suggestion\n```"


TODO = REPO / "fixtures" / "todo" / "broken"


def _where(fmt: str, data: bytes) -> list[tuple[str, str, int, int]]:
    """(file, rule, line, column) of each finding in a machine format's output."""
    if fmt == "json":
        return [(d["filename"], d["code"], d["location"]["line"], d["location"]["column"])
                for d in json.loads(data)["diagnostics"]]
    if fmt == "sarif":
        return [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"],
                 r["locations"][0]["physicalLocation"]["region"]["startLine"],
                 r["locations"][0]["physicalLocation"]["region"]["startColumn"]) for r in json.loads(data)["runs"][0]["results"]]
    if fmt == "gitlab":
        return [(d["location"]["path"], d["check_name"], d["location"]["lines"]["begin"], 0) for d in json.loads(data)]
    found = re.findall(r"^::\w+ file=([^,]+),line=(\d+),col=(\d+),endLine=\d+,endColumn=\d+,title=(\w+)::",
                       data.decode(), re.M)
    return [(path, rule, int(line), int(col)) for path, line, col, rule in found]


@pytest.mark.parametrize("fmt", ["json", "sarif", "gitlab", "github"])
def test_each_finding_is_placed_on_its_own_line_and_column_not_on_the_merged_edit(tmp_path: Path, fmt: str) -> None:
    """The todo fixture's app/db.py: the import on line 11, the URL on 14, the sessionmaker on 16; one edit
    spans them all."""
    shutil.copytree(TODO, tmp_path / "todo")
    report = json.loads(fixer("dry-run", "todo", "--report", "-", cwd=tmp_path).stdout)
    expected = sorted((i["rule"], i["line_number"]) for i in report["issues"] if i["file_path"] == "app/db.py")
    assert sorted({line for _, line in expected}) == [11, 14, 16]
    located = [(rule, line, col) for path, rule, line, col in _where(fmt, output(fmt, cwd=tmp_path, path="todo"))
               if path == "todo/app/db.py"]
    assert sorted((rule, line) for rule, line, _ in located) == expected
    if fmt != "gitlab":  # GitLab's report has lines only
        db = (TODO / "app" / "db.py").read_text().splitlines()
        columns = {(rule, line): col for rule, line, col in located}
        assert columns[("FX002", 11)] == db[10].index("AsyncSession") + 1 or columns[("FX002", 11)] == 1
        assert columns[("FX003", 16)] == db[15].index("sessionmaker(") + 1
        assert min(col for rule, line, col in located if (rule, line) == ("FX004", 14)) > 1  # on the URL


def test_the_json_fix_carries_its_edit_span_apart_from_the_findings_place(tmp_path: Path) -> None:
    import subprocess

    shutil.copytree(TODO, tmp_path / "todo")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "todo"]):  # committed: every edit is shown
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *command], cwd=tmp_path / "todo", check=True)
    data = json.loads(output("json", cwd=tmp_path, path="todo"))
    fx003 = next(d for d in data["diagnostics"] if d["code"] == "FX003")
    assert fx003["location"]["line"] == 16 and fx003["fix"]["edits"]
    assert fx003["fix"]["edits"][0]["location"]["line"] <= 16 <= fx003["fix"]["edits"][0]["end_location"]["line"]
