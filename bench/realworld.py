"""Real-world run: fixer on snapshots of public FastAPI + SQLModel backends.

For each row of bench/realworld.tsv (repository, commit, backend folder, entrypoint, ...):

1. extract the commit from a local bare mirror (``--mirrors DIR`` or ``$FIXER_RW_MIRRORS``; the layout the
   search tool's ``fetch`` makes, ``DIR/owner+name/repo``, or ``DIR/owner+name(.git)``, or ``DIR/owner/name``),
2. ``fixer dry-run`` (exit code, hunks, findings from ``--report``; the patch is saved for review),
3. ``fixer apply`` on a scratch copy,
4. a virtualenv from the backend's own requirements, before and after the fix (``requirements.txt``, else
   ``pip install .`` of its pyproject, else its declared dependencies only), cached by their hash,
5. the boot, before and after (bench/boot.py): one PostgreSQL with TLS and SCRAM for the whole run, a database
   per backend and side, ``uvicorn ENTRYPOINT`` from ``run_from`` with every database URL in the platform form
   (``?sslmode=require&channel_binding=require``), the lifespan, ``/docs`` and one route that touches the
   database; ``--import-only`` keeps the older import check instead.

Prints a markdown table and writes it, with JSON and every patch, under ``--out`` (default
``bench/results/realworld``, git-ignored). Needs no network but the package index for the installs.
Nothing of the backends is kept in this repository: only their names and commits in the TSV.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from appenv import (PLATFORM_URL, app_env, database_env, database_url_names, declared, dummy_value, first_error,
                    missing_settings)
from venvs import build_venv, ensure_uvicorn, find_requirements

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

IMPORT_TIMEOUT = 60


@dataclass
class Row:
    short_name: str
    repo: str
    commit: str
    backend_path: str
    entrypoint: str
    run_from: str
    kind: str
    note: str = ""


@dataclass
class Result:
    name: str
    repo: str
    kind: str
    dry_exit: int | None = None
    hunks: int = 0
    files: int = 0
    findings: int = 0
    fixed: int = 0
    by_rule: dict = field(default_factory=dict)
    summary_line: str = ""
    apply_exit: int | None = None
    apply_changed_files: int = 0
    req_before: str = ""
    req_after: str = ""
    install_before: str = ""
    install_after: str = ""
    import_before: str = ""
    import_after: str = ""
    error: str = ""
    dummies: list = field(default_factory=list)
    seconds: float = 0.0
    predicted: str = ""  # fixer's predicted first startup error for the same start and install (fixer.model.startup)
    boot_before: dict = field(default_factory=dict)  # boot.Boot as a dict (the boot run; empty with --import-only)
    boot_after: dict = field(default_factory=dict)


def read_tsv(path: Path) -> list[Row]:
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [Row(**{k: (v or "") for k, v in r.items() if k in Row.__dataclass_fields__}) for r in rows]


def mirror_dir(mirrors: Path, repo: str) -> Path:
    owner, name = repo.split("/", 1)
    for cand in (
        mirrors / f"{owner}+{name}" / "repo",
        mirrors / f"{owner}+{name}",
        mirrors / f"{owner}+{name}.git",
        mirrors / owner / name,
        mirrors / owner / f"{name}.git",
    ):
        if (cand / "HEAD").exists() or (cand / ".git").exists():
            return cand
    raise FileNotFoundError(f"no mirror of {repo} under {mirrors}")


def extract(mirror: Path, commit: str, dest: Path) -> list[str]:
    """Write the tree of COMMIT into DEST; returns the paths whose blobs the mirror lacks (its largest
    files may be absent), which are skipped rather than failing the whole extraction."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    git_dir = mirror / ".git" if (mirror / ".git").exists() else mirror
    git = ["git", "--git-dir", str(git_dir)]
    archive = subprocess.run(git + ["archive", "--format=tar", commit], capture_output=True)
    if archive.returncode == 0:
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True, capture_output=True)
        return []
    listing = subprocess.run(git + ["ls-tree", "-r", "-z", commit], check=True, capture_output=True).stdout
    entries = []
    for rec in listing.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, typ, sha = meta.split()
        if typ == b"blob":
            entries.append((mode.decode(), sha.decode(), path.decode("utf-8", "surrogateescape")))
    missing = []
    batch = subprocess.Popen(git + ["cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for mode, sha, path in entries:
        batch.stdin.write(sha.encode() + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            missing.append(path)
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            target.symlink_to(os.fsdecode(data))
        else:
            target.write_bytes(data)
            if mode == "100755":
                target.chmod(0o755)
    batch.stdin.close()
    batch.wait()
    return missing


def fixer_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "fixer"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "fixer"]


def count_hunks(patch: str) -> tuple[int, int]:
    hunks = sum(1 for line in patch.splitlines() if line.startswith("@@"))
    files = sum(1 for line in patch.splitlines() if line.startswith("+++ "))
    return hunks, files


# ---------------------------------------------------------------- import check


def import_check(py: Path, run_from: Path, backend: Path, entrypoint: str, log: Path | None = None) -> tuple[str, list[str]]:
    """Import MOD and get ATTR as `uvicorn MOD:ATTR` would, from run_from, with a platform DATABASE_URL.
    Settings the import reports missing get dummy values (up to 11 retries); returns (result, dummies)."""
    mod, _, attr = entrypoint.partition(":")
    attr = attr or "app"
    types = declared(backend)
    env = app_env(backend, PLATFORM_URL, types)
    code = f"import importlib; m = importlib.import_module({mod!r}); getattr(m, {attr!r})"
    added: list[str] = []
    logs = []
    result = ""
    for _ in range(12):
        try:
            p = subprocess.run(
                [str(py), "-c", code], cwd=run_from, env=env, capture_output=True, text=True, timeout=IMPORT_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            result = f"timeout ({IMPORT_TIMEOUT} s)"
            break
        logs.append(f"$ env {' '.join(added)} python -c {code!r}  (cwd {run_from})\n"
                    f"--- stdout\n{p.stdout[-3000:]}\n--- stderr\n{p.stderr[-6000:]}\n")
        if p.returncode == 0:
            result = "ok"
            break
        result = first_error(p.stderr if "Traceback" in p.stderr else p.stderr + "\n" + p.stdout) or f"exit {p.returncode}"
        new = [n for n in missing_settings(p.stderr) if n not in added or env.get(n) != dummy_value(n, types)]
        if not new:
            break
        for n in new:
            env[n] = dummy_value(n, types)
            added.append(n)
    if log is not None:
        log.write_text("".join(logs))
    return result, added


# ---------------------------------------------------------------- one backend


UNSAFE: tuple[str, ...] = ()  # fixer's --unsafe-fixes, when the run asks for it


def run_fixer(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(fixer_cmd() + args, capture_output=True, text=True, cwd=cwd, timeout=600)


def prepare(row: Row, mirrors: Path, work: Path, out: Path) -> Result:
    """Extract, dry-run, apply (fast; done one backend at a time)."""
    res = Result(row.short_name, row.repo, row.kind)
    orig = work / row.short_name / "orig"
    fixed = work / row.short_name / "fixed"
    try:
        missing = extract(mirror_dir(mirrors, row.repo), row.commit, orig)
        if missing:
            res.error = f"{len(missing)} file(s) absent from the mirror, skipped (e.g. {missing[0]})"
    except Exception as exc:  # noqa: BLE001
        res.error = f"extract: {exc}"
        return res
    if fixed.exists():
        shutil.rmtree(fixed)
    shutil.copytree(orig, fixed, symlinks=True)
    backend = orig / row.backend_path
    report = out / f"{row.short_name}.report.json"
    p = run_fixer(["dry-run", str(backend), "--report", str(report), "-j", "1", *UNSAFE])
    (out / f"{row.short_name}.patch").write_text(p.stdout)
    (out / f"{row.short_name}.dry-run.stderr").write_text(p.stderr)
    res.dry_exit = p.returncode
    res.hunks, res.files = count_hunks(p.stdout)
    m = [l for l in p.stderr.splitlines() if re.search(r"[Ww]ould fix|issue", l)]
    res.summary_line = m[-1].strip() if m else ""
    if report.exists():
        try:
            data = json.loads(report.read_text())
            issues = data.get("issues", [])
            res.findings = len(issues)
            res.fixed = sum(1 for i in issues if i.get("fixed"))
            for i in issues:
                res.by_rule[i.get("rule", "?")] = res.by_rule.get(i.get("rule", "?"), 0) + 1
        except Exception as exc:  # noqa: BLE001
            res.error = f"report: {exc}"
    p = run_fixer(["apply", str(fixed / row.backend_path), "-j", "1", *UNSAFE])
    (out / f"{row.short_name}.apply.out").write_text(p.stdout + "\n--- stderr ---\n" + p.stderr)
    res.apply_exit = p.returncode
    diff = subprocess.run(["diff", "-rq", str(orig), str(fixed)], capture_output=True, text=True).stdout
    res.apply_changed_files = sum(1 for l in diff.splitlines() if l.strip())
    return res


def documented_start_file(row: Row, tree: Path) -> str | None:
    """The file (relative to the backend) that documents the row's start, as fixer's model finds the starts:
    its install is the one the start runs on (a Dockerfile's `uv sync`, a README's `pip install -r`)."""
    sys.path.insert(0, str(ROOT))
    from fixer.discover.files import discover
    from fixer.model import entrypoints

    backend = (tree / row.backend_path).resolve()
    run_from = os.path.relpath(tree / row.run_from, backend)
    try:
        points = entrypoints.start_points(backend, paths=list(discover(backend, [])))
    except Exception:  # noqa: BLE001 - no documented start: the model's default install
        return None
    same = [p for p in points if p.app == row.entrypoint and not p.in_code]
    point = next((p for p in same if (p.run_from or ".") == run_from), same[0] if same else None)
    return point.where[0] if point is not None and point.where else None


def predict_first_error(row: Row, tree: Path) -> str:
    """fixer's own prediction (the one `fixer dry-run` prints: the install, a documented `alembic upgrade head`,
    then the import walk) for the row's start (entrypoint, run_from) with the platform URL."""
    sys.path.insert(0, str(ROOT))
    from fixer.discover.files import discover
    from fixer.model import database, entrypoints, startup

    backend = tree / row.backend_path
    paths = list(discover(backend, []))

    def read_text(rel: str) -> str | None:
        try:
            data = (backend / rel).read_bytes()
            # pip reads requirements saved as UTF-16/32 with a BOM, and so does fixer
            wide = next((c for bom, c in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                                          (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")) if data.startswith(bom)), None)
            return data.decode(wide or "utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None

    run_from = os.path.relpath(tree / row.run_from, backend)
    written = documented_start_file(row, tree)
    point = entrypoints.StartPoint(row.entrypoint, "" if run_from == "." else run_from, (), "realworld.tsv", row.entrypoint,
                                   where=(written, 0) if written else None)
    flow = database.read_python((p, (backend / p).read_bytes()) for p in paths if p.endswith(".py"))
    found = startup.analyse(backend, paths, read_text, flow, database_url=PLATFORM_URL, points=[point])
    prediction = found.primary
    # A message naming a file of the tree (starlette's `Config file '...' not found`) as the real error shows it.
    if prediction and not prediction.failures and prediction.uncertain:
        return f"uncertain: {prediction.uncertain[0][2]}"  # not "ok": the walk could not rule it out
    if not (prediction and prediction.failures):
        return "ok"
    first = str(prediction.failures[0]).replace(str(tree), "TREE")
    # Several pins that cannot build: uv names whichever build fails first, an order nothing records.
    builds = [re.search(r"`[^`]+`", f.message).group(0) for f in prediction.failures[1:] if f.family == "no-wheel"]
    return first + (f" (also {', '.join(builds)})" if prediction.failures[0].family == "no-wheel" and builds else "")


def real_first_error(b: dict) -> str:
    """What the documented start dies of first: the install, then `alembic upgrade head` where the start runs it
    before the server (`alembic upgrade head && uvicorn ...`), then the server's start."""
    migrations = b.get("migrations", "")
    if migrations and not migrations.endswith(": ok"):
        return migrations.removeprefix("alembic upgrade head: ")
    return b.get("startup_error", "") or "ok"


def same_error(predicted: str, real: str) -> bool:
    """Type and message as Python prints them; the path `cannot import name` adds is the machine's."""
    install = re.match(r"not run \(failed: error: Failed to (?:download and )?build (`[^`]+`)", real)
    if install:  # uv's words for a build that fails (with or without the download); fixer names the same pin
        predicted = predicted.removeprefix("error: ")
        also = re.search(r" \(also ([^()]*)\)$", predicted)
        return predicted.startswith(f"Failed to build {install.group(1)}") or (
            predicted.startswith("Failed to build `") and also is not None and install.group(1) in also.group(1).split(", "))
    unsolved = re.match(r"not run \(failed: error: No solution found when resolving dependencies(?:: (.*))?", real)
    if unsolved:  # the resolver's words; fixer names the two requirements that conflict, as uv's cause does
        named = re.match(r"error: No solution found when resolving dependencies: ([\w.-]+)\S* requires ([\w.-]+)", predicted)
        cause = (unsolved.group(1) or "").lower()
        return named is not None and all(n.lower() in cause for n in named.groups())
    # The bench runs the documented `alembic` command as `python -m alembic` (the venv's): Python's words for a
    # module that is not installed, which the prediction gives as the import error env.py meets first.
    command = re.fullmatch(r"\S*python[\d.]*: No module named ([\w.]+)", real)
    if command:
        real = f"ModuleNotFoundError: No module named '{command.group(1)}'"
    real = re.sub(r" \((?:/|VENV|TREE)[^()]*\)$", "", real.split(" (", 1)[0] if "validation error" in real else real)
    # first_error() keeps 300 characters of a long message (SQLAlchemy's greenlet one runs on).
    return bool(predicted) and (real == predicted or (len(real) >= 290 and predicted.startswith(real)))


def check_imports(row: Row, res: Result, work: Path, out: Path, cache: Path, sides=("before", "after")) -> Result:
    """Venvs and import checks before and after (slow; at most --jobs at once)."""
    try:
        res.predicted = predict_first_error(row, work / row.short_name / "orig")
    except Exception as exc:  # noqa: BLE001 - the column says it, the run goes on
        res.predicted = f"prediction failed: {exc!r}"
    for side in sides:
        tree = work / row.short_name / ("orig" if side == "before" else "fixed")
        backend = tree / row.backend_path
        status, py, what = build_venv(backend, cache, out / f"{row.short_name}.install-{side}.log",
                                      documented_start_file(row, tree))
        setattr(res, f"install_{side}", status)
        setattr(res, f"req_{side}", what)
        if py is None:
            setattr(res, f"import_{side}", f"not run ({status})")
            continue
        result, added = import_check(py, tree / row.run_from, backend, row.entrypoint,
                                     out / f"{row.short_name}.import-{side}.log")
        setattr(res, f"import_{side}", result.replace(str(py.parent.parent), "VENV").replace(str(tree), "TREE"))
        if added:
            res.dummies = sorted(set(res.dummies) | set(added))
    return res


def database_name(row: Row, side: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", f"rw_{row.short_name}_{side}".lower())[:63]


def check_boots(row: Row, res: Result, work: Path, out: Path, cache: Path, server, sides=("before", "after")) -> Result:
    """Venvs and boots before and after (slow; at most --jobs at once), each side on a database of its own.
    A library row (no app to serve) is only checked for edits: the dry-run's hunks."""
    import boot

    if row.kind == "library":
        return res
    try:
        res.predicted = predict_first_error(row, work / row.short_name / "orig")
    except Exception as exc:  # noqa: BLE001 - the column says it, the run goes on
        res.predicted = f"prediction failed: {exc!r}"
    for side in sides:
        tree = work / row.short_name / ("orig" if side == "before" else "fixed")
        backend = tree / row.backend_path
        install_log = out / f"{row.short_name}.install-{side}.log"
        status, py, what = build_venv(backend, cache, install_log, documented_start_file(row, tree))
        if py is not None:
            added = ensure_uvicorn(py, install_log)
            status += f" ({added})" if added else ""
        setattr(res, f"install_{side}", status)
        setattr(res, f"req_{side}", what)
        if py is None:
            setattr(res, f"boot_{side}", asdict(boot.Boot(startup_error=f"not run ({status})")))
            continue
        url = boot.platform_url(server.create_database(database_name(row, side)))

        types = declared(backend)

        def dummy(name: str, url: str = url, types=types) -> str:
            return database_env([name], url).get(name) or dummy_value(name, types)

        env = app_env(backend, url, types)
        env.update(dict.fromkeys(database_url_names(backend, types), url))
        result = boot.boot(py, tree / row.run_from, row.entrypoint, env, missing_settings, dummy,
                           out / f"{row.short_name}.boot-{side}.log", boot.documented_migration(backend, tree))
        for key in ("startup_error", "request_error"):
            setattr(result, key, getattr(result, key).replace(str(py.parent.parent), "VENV").replace(str(tree), "TREE"))
        setattr(res, f"boot_{side}", result.as_dict())
        setattr(res, f"import_{side}", result.startup_error or "ok")
        if result.dummies:
            res.dummies = sorted(set(res.dummies) | set(result.dummies))
    return res


# ---------------------------------------------------------------- output


def md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def short(err: str, width: int = 140) -> str:
    err = err or "-"
    err = err.replace("  In order to ensure this dependency is available, use the 'sqlalchemy[asyncio]' install target:  'pip install sqlalchemy[asyncio]'", "")
    return err if len(err) <= width else err[: width - 1] + "…"


def boot_cell(b: dict) -> str:
    if not b:
        return "-"
    import boot

    return boot.Boot(**b).cell()


def started(b: dict) -> bool:
    """The documented migration (if any) runs, the app boots, and the database route (with --routes: every
    route) answers no 5xx."""
    return (real_first_error(b) == "ok" and bool(b.get("boots")) and not (b.get("db_status") or 0) >= 500
            and not b.get("route_errors"))


def judged(b: dict) -> bool:
    """A row whose start could be tried: an install that fails is the start failing; no dependency file at all
    leaves nothing to install, and the row out, as does an install this machine cannot make (a torch build for
    another CPython than its local wheel's)."""
    return bool(b) and not b.get("startup_error", "").startswith(("not run (no ", "not run (timed", "not run (machine:"))


def table(results: list[Result]) -> str:
    if not any(r.boot_before for r in results):
        return import_table(results)
    head = ("| backend | kind | dry-run exit | hunks (files) | before: first error or ok, db route | predicted first error "
            "| hit | after: first error or ok, db route |\n|---|---|---:|---:|---|---|---|---|\n")
    rows = []
    for r in results:
        real = real_first_error(r.boot_before)
        hit = "" if not (judged(r.boot_before) and r.predicted) else ("yes" if same_error(r.predicted, real) else "no")
        rows.append(
            f"| {r.name} | {r.kind} | {r.dry_exit} | {r.hunks} ({r.files}) | {md_escape(short(boot_cell(r.boot_before)))} "
            f"| {md_escape(short(r.predicted))} | {hit} | {md_escape(short(boot_cell(r.boot_after)))} |"
        )
    ran = [r for r in results if judged(r.boot_before)]
    defective = [r for r in ran if not started(r.boot_before)]
    fixed = [r for r in defective if started(r.boot_after)]
    correct = [r for r in ran if started(r.boot_before)]
    clean = [r for r in correct if r.hunks == 0]
    hits = [r for r in ran if r.predicted and same_error(r.predicted, real_first_error(r.boot_before))]
    foot = (f"\ndefective that start after apply: {len(fixed)} of {len(defective)}; "
            f"correct with no diff: {len(clean)} of {len(correct)}\n"
            f"predicted first error = real first error: {len(hits)} of {len(ran)} backends\n"
            "(start = the install, a documented `alembic upgrade head`, `Application startup complete`, /docs 200, and the database route (with --routes: every "
            "route) answers no 5xx)\n")
    return head + "\n".join(rows) + "\n" + foot


def import_table(results: list[Result]) -> str:
    head = ("| repository | kind | findings (fixed) | hunks (files) | dry-run exit | import before | predicted first error "
            "| hit | import after |\n")
    head += "|---|---|---:|---:|---:|---|---|---|---|\n"
    rows = []
    for r in results:
        hit = "" if not r.predicted or r.import_before.startswith("not run") else ("yes" if same_error(r.predicted, r.import_before) else "no")
        rows.append(
            f"| {r.name} ({r.repo}) | {r.kind} | {r.findings} ({r.fixed}) | {r.hunks} ({r.files}) | {r.dry_exit} "
            f"| {md_escape(short(r.import_before))} | {md_escape(short(r.predicted))} | {hit} | {md_escape(short(r.import_after))} |"
        )
    judged = [r for r in results if r.predicted and r.import_before and not r.import_before.startswith("not run")]
    hits = sum(1 for r in judged if same_error(r.predicted, r.import_before))
    foot = f"\npredicted first error = real first error: {hits} of {len(judged)} backends\n" if judged else ""
    return head + "\n".join(rows) + "\n" + foot


def repredict(rows: list[Row], out: Path, work: Path) -> int:
    """The prediction column again, against the real first errors the last run recorded."""
    js = out / "realworld.json"
    previous = {d["name"]: Result(**d) for d in json.loads(js.read_text())}
    ordered = []
    for row in rows:
        res = previous.get(row.short_name)
        if res is None:
            continue
        try:
            res.predicted = predict_first_error(row, work / row.short_name / "orig")
        except Exception as exc:  # noqa: BLE001
            res.predicted = f"prediction failed: {exc!r}"
        ordered.append(res)
    md = table(ordered)
    (out / "realworld.md").write_text(md)
    js.write_text(json.dumps([asdict(r) for r in ordered], indent=2))
    print(md)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tsv", type=Path, default=HERE / "realworld.tsv")
    ap.add_argument("--mirrors", type=Path, default=os.environ.get("FIXER_RW_MIRRORS"),
                    help="folder of bare mirrors (default $FIXER_RW_MIRRORS)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "realworld")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "fixer-realworld",
                    help="scratch folder for the snapshots, outside any repository (fixer reads the closest pyproject.toml above)")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("FIXER_RW_CACHE", ROOT / ".cache" / "realworld-venvs")))
    ap.add_argument("--only", default="", help="comma-separated short names")
    ap.add_argument("--skip-import", action="store_true", help="dry-run and apply only")
    ap.add_argument("--before-only", action="store_true", help="boot (or import check) of the unfixed tree only (with the prediction)")
    ap.add_argument("--routes", action="store_true",
                    help="after the database route, call every route of the schema once, as `fixer verify` does")
    ap.add_argument("--import-only", action="store_true",
                    help="the old import check instead of the boot (no PostgreSQL, no uvicorn)")
    ap.add_argument("--repredict", action="store_true",
                    help="recompute only the predicted-first-error column of the last results (snapshots kept in --work)")
    ap.add_argument("--jobs", type=int, default=2, help="installs at once (default 2)")
    ap.add_argument("--unsafe-fixes", action="store_true", help="run fixer with --unsafe-fixes")
    a = ap.parse_args(argv)
    global UNSAFE
    UNSAFE = ("--unsafe-fixes",) if a.unsafe_fixes else ()
    if a.mirrors is None:
        ap.error("--mirrors DIR or $FIXER_RW_MIRRORS is required")
    rows = read_tsv(a.tsv)
    if a.repredict:
        return repredict(rows, a.out, a.work.resolve())
    if a.only:
        wanted = set(a.only.split(","))
        rows = [r for r in rows if r.short_name in wanted]
    a.out.mkdir(parents=True, exist_ok=True)
    work = a.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    a.cache.mkdir(parents=True, exist_ok=True)

    results: dict[str, Result] = {}
    t0 = time.time()
    for row in rows:
        t = time.time()
        res = prepare(row, a.mirrors, work, a.out)
        res.seconds = time.time() - t
        results[row.short_name] = res
        print(f"[{row.short_name}] dry-run exit {res.dry_exit}, {res.findings} findings, {res.hunks} hunks"
              f"{'; ' + res.error if res.error else ''}", file=sys.stderr, flush=True)

    if not a.skip_import:
        sides = ("before",) if a.before_only else ("before", "after")

        def job(row: Row, server=None) -> Result:
            res = results[row.short_name]
            if res.error.startswith("extract"):
                return res
            try:
                if server is None:
                    check_imports(row, res, work, a.out, a.cache, sides)
                else:
                    check_boots(row, res, work, a.out, a.cache, server, sides)
            except Exception as exc:  # noqa: BLE001 - recorded, never a crash of the whole run
                res.error = f"{'import' if server is None else 'boot'} check: {exc!r}"
            if server is None:
                print(f"[{row.short_name}] before: {res.import_before} | predicted: {res.predicted} | after: {res.import_after}",
                      file=sys.stderr, flush=True)
            else:
                print(f"[{row.short_name}] before: {boot_cell(res.boot_before)} | predicted: {res.predicted} "
                      f"| after: {boot_cell(res.boot_after)}", file=sys.stderr, flush=True)
            return res

        if a.import_only:
            with cf.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
                list(pool.map(job, rows))
        else:
            sys.path.insert(0, str(ROOT))
            from fixer.verify.postgres import throwaway_postgres

            # One server for the whole run, with TLS and SCRAM: the platform URL's sslmode=require and
            # channel_binding=require are honoured for real; each backend and side gets a database of its own.
            import boot

            with throwaway_postgres(tls=True) as server:
                boot.CA_BUNDLE = boot.trust_bundle(server.ca_file, work / "ca-bundle.pem")
                boot.ALL_ROUTES = a.routes
                print(f"PostgreSQL: {server.version} with TLS on {server.url.rsplit('@', 1)[1]}", file=sys.stderr)
                with cf.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
                    list(pool.map(lambda row: job(row, server), rows))

    # A partial run (--only) updates its rows in the last full results and prints the whole table.
    all_rows = read_tsv(a.tsv)
    previous = {}
    js = a.out / "realworld.json"
    if a.only and js.exists():
        previous = {d["name"]: Result(**d) for d in json.loads(js.read_text())}
    kinds = {r.short_name: r.kind for r in all_rows}
    ordered = []
    for r in all_rows:
        res = results.get(r.short_name) or previous.get(r.short_name)
        if res is not None:
            res.kind = kinds[r.short_name]
            ordered.append(res)
    md = table(ordered)
    (a.out / "realworld.md").write_text(md)
    (a.out / "realworld.json").write_text(json.dumps([asdict(r) for r in ordered], indent=2))
    print(md)
    print(f"{len(ordered)} backends in {time.time() - t0:.0f} s; patches and logs in {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
