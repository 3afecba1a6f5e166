"""fixer's benchmark: build three corpora, time fixer and what a user would otherwise run, side by side.

    python bench/run.py            # full run (about 20 minutes on 2 cores)
    python bench/run.py --quick    # the targets' ratios on small corpora, one run each (under a minute)

Prints a markdown table and writes it to bench/results/results.md (raw samples: results.json). No network:
the corpora are built from the fixtures and from the packages installed in the virtualenv running this
script (see bench/requirements.txt and bench/README.md). Every command is its own process, timed whole
(interpreter start and imports included); each is repeated and the median kept, tools alternating.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(REPO))

import corpora  # noqa: E402
import measure  # noqa: E402

CORPORA_DIR = BENCH / "corpora"
RESULTS_DIR = BENCH / "results"
LIBCST_CODEMODS = (  # fixer's Python rules as LibCST codemod commands, in registry order
    "async_imports.AsyncImports",
    "async_sessionmaker.AsyncSessionmaker",
    "database_url.DatabaseUrlCodemod",
    "database_url.RuntimeUrlNormaliser",
)


@dataclass
class Tool:
    key: str  # stable id, e.g. "fixer-j1"
    label: str
    cmd: list[str]
    cwd: Path | None = None
    expect_rc: tuple[int, ...] = (0,)
    slow: bool = False  # repeated only while a run stays short (see --slow-budget)


@dataclass
class Corpus:
    name: str
    root: Path
    description: str
    files: int = 0
    python: int = 0
    parsed: int = 0
    parsed_bytes: int = 0
    lists: dict[str, Path] = field(default_factory=dict)
    samples: dict[str, list[measure.Sample]] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------ corpora


def build_corpora(args: argparse.Namespace) -> list[Corpus]:
    CORPORA_DIR.mkdir(parents=True, exist_ok=True)
    # One shared above them all would make their common folder the project of a corpus without a marker of its
    # own (the module): every run would read every corpus.
    (CORPORA_DIR / "pyproject.toml").unlink(missing_ok=True)
    sizes = args.sizes
    wanted = {
        "seed": {"kind": "seed"},
        "large": {"kind": "large", "packages": corpora.installed_packages()},
        **{f"dense-{n}": {"kind": "dense", "copies": n} for n in sizes},
        "module": {"kind": "module", "megabytes": args.megabytes},
        "plain": {"kind": "plain", "megabytes": args.megabytes},
    }
    if args.only:  # the others are not built either: the large corpus alone copies every installed package
        keep = set(args.only.split(","))
        wanted = {name: spec for name, spec in wanted.items() if name in keep or name.split("-")[0] in keep}
    stamp_file = CORPORA_DIR / "stamps.json"
    stamps = json.loads(stamp_file.read_text()) if stamp_file.exists() else {}
    fixtures = _fixture_stamp()
    out = []
    for name, spec in wanted.items():
        # As stamps.json gives it back (tuples become lists): compared with a tuple, the large corpus's stamp
        # never matched, and that corpus, a copy of every installed package, was rebuilt by every run.
        spec = json.loads(json.dumps({**spec, "fixtures": fixtures, "builder": _file_stamp(BENCH / "corpora.py")}))
        root = CORPORA_DIR / name
        if args.rebuild or stamps.get(name) != spec or not root.is_dir():
            print(f"building corpus {name} ...", file=sys.stderr)
            if spec["kind"] == "seed":
                corpora.build_seed(root)
            elif spec["kind"] == "large":
                corpora.build_large(root)
            elif spec["kind"] == "module":
                corpora.build_module(root, spec["megabytes"])
            elif spec["kind"] == "plain":
                corpora.build_plain(root, spec["megabytes"])
            else:
                corpora.build_dense(root, spec["copies"])
            stamps[name] = spec
            stamp_file.write_text(json.dumps(stamps, indent=1))
        # fixer reads the closest pyproject.toml at or above the folder it fixes: without this one it would be
        # the repository's, whose [tool.fixer] excludes bench/.
        (root / "pyproject.toml").write_text(
            "# Written by bench/run.py: keeps the corpus out of the repository's [tool.fixer] settings.\n",
            encoding="utf-8",
        )
        description = {
            "seed": "the bundled seed backend (fixtures/seed/broken/backend)",
            "large": "source of every package installed in this virtualenv, plus 3 broken backends",
            "dense": f"{spec.get('copies')} varied copies of the fixture backends' relevant files",
            "module": f"one generated {spec.get('megabytes')} MB module with database code all through it",
            "plain": f"one generated {spec.get('megabytes')} MB module of ordinary code, nothing for fixer",
        }[spec["kind"]]
        out.append(Corpus(name=name, root=root, description=description))
    return out


def _fixture_stamp() -> str:
    # Bytecode a test run leaves beside a fixture is no change of the fixture: it would rebuild every corpus.
    return ",".join(_file_stamp(p) for p in sorted(corpora.REPO.joinpath("fixtures").rglob("*"))
                    if p.is_file() and "__pycache__" not in p.parts)


def _file_stamp(path: Path) -> str:
    stat = path.stat()
    return f"{path.name}:{stat.st_size}:{int(stat.st_mtime)}"


def plan(corpus: Corpus) -> None:
    """What fixer will read and parse (a run of fixer's own code, untimed), written as lists for floor.py. Kept
    while neither the corpus nor fixer's source changed: the run costs about one timed run of fixer."""
    lists = RESULTS_DIR / "lists"
    kinds = ("python", "parsed")
    stamp = _plan_stamp(corpus)
    saved = lists / f"{corpus.name}.plan.json"
    if saved.exists() and all((lists / f"{corpus.name}.{kind}.txt").exists() for kind in kinds):
        known = json.loads(saved.read_text())
        if known.pop("stamp") == stamp:
            corpus.files, corpus.python, corpus.parsed, corpus.parsed_bytes = (known[k] for k in ("files", "python", "parsed", "bytes"))
            corpus.lists = {kind: lists / f"{corpus.name}.{kind}.txt" for kind in kinds}
            return
    _plan(corpus)
    saved.write_text(json.dumps({"stamp": stamp, "files": corpus.files, "python": corpus.python,
                                 "parsed": corpus.parsed, "bytes": corpus.parsed_bytes}))


def _plan_stamp(corpus: Corpus) -> str:
    import hashlib

    digest = hashlib.sha1()
    for path in sorted((REPO / "fixer").rglob("*.py")):
        digest.update(path.read_bytes())
    for path in sorted(corpus.root.rglob("*")):
        if path.is_file() and path != corpus.root / "pyproject.toml":  # rewritten, the same, by every run
            digest.update(f"{path.relative_to(corpus.root)}:{path.stat().st_size}:{path.stat().st_mtime_ns}".encode())
    return digest.hexdigest()


def _plan(corpus: Corpus) -> None:
    from fixer.apply import runner
    from fixer.discover.files import discover
    from fixer.rules.registry import PYTHON_CODEMODS, TEXT_RULES

    paths = list(discover(corpus.root))
    python = [p for p in paths if p.endswith(".py")]
    # The run up to the parse: the model decides which files are parsed; the transforms are the timed runs' job.
    transform = runner._map
    runner._map = lambda tasks, settings, jobs, progress, meanwhile: ([], meanwhile())
    try:
        done = runner.run(corpus.root, PYTHON_CODEMODS, [rule() for rule in TEXT_RULES])
    finally:
        runner._map = transform
    corpus.files, corpus.python, corpus.parsed = len(paths), len(python), len(done.parsed)
    corpus.parsed_bytes = sum((corpus.root / rel).stat().st_size for rel in done.parsed)
    lists = RESULTS_DIR / "lists"
    lists.mkdir(parents=True, exist_ok=True)
    for kind, rels in (("python", python), ("parsed", done.parsed)):
        path = lists / f"{corpus.name}.{kind}.txt"
        path.write_text(f"root: {corpus.root}\n" + "".join(f"{rel}\n" for rel in rels), encoding="utf-8")
        corpus.lists[kind] = path


def write_patterns() -> Path:
    """fixer's text checks, as the runner uses them, for floor.py's `scan`."""
    import re

    from fixer.model import FACT_PATTERNS
    from fixer.rules.registry import PYTHON_CODEMODS

    def spec(pattern: re.Pattern[bytes]) -> dict:
        return {"pattern": pattern.pattern.decode("latin-1"), "flags": pattern.flags & ~re.ASCII}

    # As runner.read_candidates uses them: the facts' and the codemods' checks, each with its flags.
    prefilter = [spec(p) for p in (*FACT_PATTERNS, *(c.TRIGGER for c in PYTHON_CODEMODS))]
    path = RESULTS_DIR / "lists" / "patterns.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"prefilter": prefilter, "triggers": [spec(c.TRIGGER) for c in PYTHON_CODEMODS]}))
    return path


# ------------------------------------------------------------------------------------------------ tools


# What --quick times per corpus: the tools its targets are ratios of.
_QUICK_TOOLS = {
    "seed": {"fixer-j1", "fixer-jN", "import-codemod"},
    "large": {"fixer-j1", "floor-scan"},
    "dense": {"fixer-j1", "fixer-jN", "floor-roundtrip"},
    "module": {"fixer-j1", "floor-roundtrip"},
    "plain": {"fixer-j1", "floor-scan", "import-codemod"},
}


def tools_for(corpus: Corpus, jobs: int, patterns: Path, quick: bool = False) -> list[Tool]:
    tools = _all_tools(corpus, jobs, patterns)
    if quick:
        keep = _QUICK_TOOLS[corpus.name.split("-")[0]]
        tools = [tool for tool in tools if tool.key in keep]
    return tools


def _all_tools(corpus: Corpus, jobs: int, patterns: Path) -> list[Tool]:
    python = sys.executable
    fixer = shutil.which("fixer", path=str(Path(python).parent)) or None
    fixer_cmd = [fixer] if fixer else [python, "-m", "fixer"]
    floor = str(BENCH / "floor.py")
    root = str(corpus.root)
    tools = [
        Tool("fixer-j1", "fixer dry-run -j 1", [*fixer_cmd, "dry-run", "-j", "1", root], expect_rc=(0, 1)),
        Tool("fixer-jN", f"fixer dry-run -j {jobs}", [*fixer_cmd, "dry-run", "-j", str(jobs), root], expect_rc=(0, 1)),
        Tool("floor-scan", "floor: read all + regex + parse/.code candidates", [python, floor, "scan", str(corpus.lists["python"]), str(patterns), str(corpus.lists["parsed"])]),
        Tool("floor-parse", "floor: parse what fixer parses", [python, floor, "parse", str(corpus.lists["parsed"])]),
        Tool("floor-roundtrip", "floor: parse + .code what fixer parses", [python, floor, "roundtrip", str(corpus.lists["parsed"])]),
    ]
    # The command name must follow `codemod` directly (libcst.tool finds it with a first, partial parse).
    options = ["--no-format", "--include-generated", "--hide-progress", "-u", "3", "-j", str(jobs)]
    script = " ; ".join(
        " ".join(map(_sh, [python, "-m", "libcst.tool", "codemod", name, *options, root])) for name in LIBCST_CODEMODS
    )
    bare = Tool("import-codemod", "interpreter + import libcst.codemod (matchers, metadata)", [python, "-c", "import libcst.codemod"])
    if corpus.name == "plain":  # nothing to parse: what is left beside a bare start is the read and the checks
        return [*tools, bare]
    if corpus.name == "module":  # one file: libcst.tool would only add its own start to the parse
        return tools
    tools.append(
        Tool(
            "libcst-tool",
            f"python -m libcst.tool codemod x{len(LIBCST_CODEMODS)} (-j {jobs})",
            ["sh", "-c", script + " ; exit 0"],
            cwd=BENCH,  # where .libcst.codemod.yaml is
            slow=True,
        )
    )
    if corpus.name == "seed":  # where a small run's time goes (compare with the import numbers)
        tools += [
            Tool("python", "interpreter only (python -c pass)", [python, "-c", "pass"]),
            Tool("import-libcst", "interpreter + import libcst", [python, "-c", "import libcst"]),
            bare,
            Tool("imports", "interpreter + fixer's imports", [python, "-c", "import fixer.cli.commands, fixer.rules.registry, fixer.apply.runner"]),
        ]
    return tools


def _sh(word: str) -> str:
    import shlex

    return shlex.quote(word)


# ------------------------------------------------------------------------------------------------ running


def run_corpus(corpus: Corpus, tools: list[Tool], repeat: int, slow_budget: float) -> None:
    print(f"\n== {corpus.name}: {corpus.python} Python files, {corpus.parsed} parsed by fixer", file=sys.stderr)
    corpus.load.append(os.getloadavg()[0])
    for round_ in range(repeat):
        shift = round_ % len(tools)
        for tool in tools[shift:] + tools[:shift]:  # alternate: each round starts with the next tool
            done = corpus.samples.setdefault(tool.key, [])
            if tool.slow and done and sum(s.wall for s in done) > slow_budget:
                continue
            sample = measure.run(tool.cmd, cwd=tool.cwd)
            if sample.returncode not in tool.expect_rc:
                raise SystemExit(f"{tool.label} on {corpus.name} exited {sample.returncode}:\n{sample.stderr_tail}")
            done.append(sample)
            print(f"  {tool.label:<48} {sample.wall:8.2f} s  cpu {sample.cpu:7.2f} s  rss {sample.max_rss_mb:6.0f} MB", file=sys.stderr)
    corpus.load.append(os.getloadavg()[0])
    check(corpus)


def check(corpus: Corpus) -> None:
    """The runs must agree: fixer gives one patch whatever -j, and floor.py parses what fixer parses."""
    fixer = corpus.samples["fixer-j1"] + corpus.samples.get("fixer-jN", [])
    if len({s.stdout_sha1 for s in fixer}) != 1:
        raise SystemExit(f"{corpus.name}: fixer's patch differs between runs or -j values")
    for key in ("floor-scan", "floor-parse"):
        for sample in corpus.samples.get(key, []):
            summary = json.loads(sample.stderr_tail.strip().splitlines()[-1])
            if summary["parsed"] != corpus.parsed:
                raise SystemExit(f"{corpus.name}: {key} parsed {summary['parsed']} files, fixer {corpus.parsed}")


# ------------------------------------------------------------------------------------------------ report


def med(corpus: Corpus, key: str, attr: str = "wall") -> float | None:
    values = [getattr(s, attr) for s in corpus.samples.get(key, []) if getattr(s, attr) is not None]
    return statistics.median(values) if values else None


def report(all_corpora: list[Corpus], tools: dict[str, list[Tool]], args: argparse.Namespace, started: float) -> str:
    lines = [
        "# fixer benchmark",
        "",
        f"`{' '.join(['python', 'bench/run.py', *sys.argv[1:]])}` on {time.strftime('%Y-%m-%d %H:%M')}: "
        f"{os.cpu_count()} cores ({_cpu_model()}), Python {platform.python_version()}, LibCST {_version('libcst')}, "
        f"fixer {_git_rev()}. Medians of {args.repeat} runs per tool, tools alternating; every number is a whole "
        f"process (interpreter start and imports included). Total bench time {(time.time() - started) / 60:.1f} min "
        f"wall, {_cpu_spent():.0f} s CPU (the bench and every process it ran; on a loaded machine the wall time "
        "is mostly waiting).",
        "",
        "## Corpora",
        "",
        "| corpus | what | files | Python files | parsed by fixer | bytes parsed | load avg (before, after) |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for c in all_corpora:
        lines.append(
            f"| {c.name} | {c.description} | {c.files} | {c.python} | {c.parsed} | {c.parsed_bytes / 1e6:.2f} MB "
            f"| {', '.join(f'{x:.2f}' for x in c.load)} |"
        )
    for c in all_corpora:
        lines += [
            "",
            f"## {c.name}",
            "",
            "| tool | wall s | CPU s | max RSS, one process (MB) | peak PSS, process tree (MB) | wall / fixer -j 1 | runs |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        base = med(c, "fixer-j1")
        for tool in tools[c.name]:
            wall = med(c, tool.key)
            if wall is None:
                continue
            pss = med(c, tool.key, "peak_pss_mb")
            lines.append(
                f"| {tool.label} | {wall:.2f} | {med(c, tool.key, 'cpu'):.2f} | {med(c, tool.key, 'max_rss_mb'):.0f} "
                f"| {'' if pss is None else f'{pss:.0f}'} | {wall / base:.2f} | {len(c.samples[tool.key])} |"
            )
    lines += ["", "## Targets", "", "| target | measured | goal | met |", "|---|---|---|---|"]
    for name, measured, goal, ok in targets(all_corpora, args):
        lines.append(f"| {name} | {measured} | {goal} | {'yes' if ok else '**no**'} |")
    dense = [c for c in all_corpora if c.name.startswith("dense-")]
    lines += [] if not dense else [
        "",
        "## Dense corpus: cost as it grows",
        "",
        f"| copies | files parsed | MB parsed | fixer -j 1 s | ms per parsed file | fixer -j {args.jobs} s | speed-up | "
        "floor parse + .code s | fixer -j 1 / floor | peak PSS -j 1 (MB) | peak PSS -j N (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in dense:
        j1, jn, floor = med(c, "fixer-j1"), med(c, "fixer-jN"), med(c, "floor-roundtrip")
        lines.append(
            f"| {c.name.split('-')[1]} | {c.parsed} | {c.parsed_bytes / 1e6:.2f} | {j1:.2f} | {j1 / c.parsed * 1000:.1f} "
            f"| {jn:.2f} | {j1 / jn:.2f} | {floor:.2f} | {j1 / floor:.2f} | {_fmt(med(c, 'fixer-j1', 'peak_pss_mb'))} "
            f"| {_fmt(med(c, 'fixer-jN', 'peak_pss_mb'))} |"
        )
    if len(dense) >= 2:
        (a, b) = dense[0], dense[-1]
        marginal = (med(b, "fixer-j1") - med(a, "fixer-j1")) / max(1, b.parsed - a.parsed) * 1000
        lines += ["", f"Marginal cost between the smallest and largest dense corpus: {marginal:.1f} ms per parsed file at -j 1."]
    return "\n".join(lines) + "\n"


def targets(all_corpora: list[Corpus], args: argparse.Namespace) -> list[tuple[str, str, str, bool]]:
    """The issue's targets, each a ratio of two tools timed in the same run (wall time, and CPU time beside it:
    on a loaded machine CPU time is the steadier)."""
    by = {c.name: c for c in all_corpora}
    out = []

    def ratio(corpus: Corpus, key: str, base: str) -> tuple[float, str]:
        wall = med(corpus, key) / med(corpus, base)
        cpu = med(corpus, key, "cpu") / med(corpus, base, "cpu")
        return wall, f"{wall:.2f}x (CPU {cpu:.2f}x)"

    seed = by.get("seed")
    if seed:
        value, shown = ratio(seed, "fixer-jN", "import-codemod")
        out.append((f"seed: `fixer dry-run -j {args.jobs}` / `python -c 'import libcst.codemod'`", shown, "<= 1.3x", value <= 1.3))
        wall = med(seed, "fixer-jN")
        out.append((f"seed: `fixer dry-run -j {args.jobs}` whole process", f"{wall:.2f} s", "< 0.6 s", wall < 0.6))
    large = by.get("large")
    if large:
        value, shown = ratio(large, "fixer-j1", "floor-scan")
        out.append(("large: fixer -j 1 / (read all + regex + parse/.code candidates)", shown, "<= 2x", value <= 2))
        if med(large, "fixer-jN") is not None:
            value, shown = ratio(large, "fixer-jN", "floor-scan")
            out.append((f"large: fixer -j {args.jobs} / the same floor", shown, "<= 2x", value <= 2))
        rss = med(large, "fixer-j1", "max_rss_mb")
        pss = med(large, "fixer-jN", "peak_pss_mb")
        shown = f"{rss:.0f} MB RSS at -j 1" + ("" if pss is None else f", {pss:.0f} MB PSS at -j {args.jobs}")
        out.append((f"large: peak memory on {large.python} Python files", shown, "<= 200 MB", rss <= 200 and (pss or 0) <= 200))
        tool = med(large, "libcst-tool")
        if tool is not None:
            jn = med(large, "fixer-jN")
            out.append(("large: libcst.tool codemod / fixer (both -j N)", f"{tool / jn:.1f}x", ">= 20x", tool / jn >= 20))
    module = by.get("module")
    if module:
        value, shown = ratio(module, "fixer-j1", "floor-roundtrip")
        out.append((f"module ({args.megabytes:g} MB, database code all through): fixer -j 1 / (parse + .code)", shown, "<= 2x", value <= 2))
    plain = by.get("plain")
    if plain:
        value, shown = ratio(plain, "fixer-j1", "import-codemod")
        out.append((f"plain ({args.megabytes:g} MB, nothing for fixer): fixer -j 1 / `python -c 'import libcst.codemod'`", shown, "<= 1.3x, as the seed", value <= 1.3))
        _, shown = ratio(plain, "fixer-j1", "floor-scan")
        out.append(("plain: fixer -j 1 / (read + regex, `import libcst` and no more)", shown, "-", True))
    dense = [c for c in all_corpora if c.name.startswith("dense-")]
    if dense:
        big = dense[-1]
        value, shown = ratio(big, "fixer-j1", "floor-roundtrip")
        out.append((f"{big.name}: fixer -j 1 / (parse + .code)", shown, "<= 1.2x", value <= 1.2))
        value, shown = ratio(big, "fixer-j1", "fixer-jN")
        out.append((f"{big.name}: speed-up of -j {args.jobs} over -j 1", shown, ">= 1.8x", value >= 1.8))
        peaks = [max(med(c, "fixer-j1", "peak_pss_mb") or 0, med(c, "fixer-jN", "peak_pss_mb") or 0) for c in dense]
        out.append(("dense: peak PSS of the process tree, smallest -> largest", " -> ".join(f"{p:.0f}" for p in peaks) + " MB", "< 200 MB, flat", max(peaks) < 200))
        if len(dense) > 1:
            per_file = [med(c, "fixer-j1") / c.parsed * 1000 for c in dense]
            out.append(("dense: ms per parsed file at -j 1, smallest -> largest", " -> ".join(f"{p:.1f}" for p in per_file), "flat (linear cost)", per_file[-1] <= per_file[0] * 1.15))
        tool = med(big, "libcst-tool")
        if tool is not None:
            out.append((f"{big.name}: libcst.tool codemod / fixer (both -j N)", f"{tool / med(big, 'fixer-jN'):.1f}x", "-", True))
    return out


def _cpu_spent() -> float:
    import resource

    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _version(dist: str) -> str:
    from importlib import metadata

    return metadata.version(dist)


def _git_rev() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "fixer"], cwd=REPO, capture_output=True, text=True).stdout
        return f"{rev}{' + local changes' if dirty.strip() else ''}"
    except OSError:
        return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the targets' ratios only, on small corpora, one run each (under a minute once the corpora are built)")
    parser.add_argument("--repeat", type=int, help="runs per tool [3; --quick: 1]")
    parser.add_argument("--jobs", type=int, default=_cores(), help="N for the -j N runs [all cores]")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], help="dense corpus copies [100,200,400; --quick: 20]")
    parser.add_argument("--only", help="comma-separated corpora to run (seed, large, dense, module)")
    parser.add_argument("--megabytes", type=float, help="size of the generated modules [5; --quick: 0.25]")
    parser.add_argument("--slow-budget", type=float, default=60.0, help="repeat libcst.tool only while its runs on a corpus took less than this many seconds [60]")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the corpora even if they look current")
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.sizes = args.sizes or ([20] if args.quick else [100, 200, 400])
    args.megabytes = args.megabytes or (0.25 if args.quick else 5.0)
    _check_requirements()

    started = time.time()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    # As an installed fixer is: its modules' bytecode written once. Without it (an editable install under
    # PYTHONDONTWRITEBYTECODE) every timed run compiles fixer's whole source first, LibCST's never.
    import compileall

    compileall.compile_dir(str(REPO / "fixer"), quiet=1)
    all_corpora = build_corpora(args)
    patterns = write_patterns()
    tools: dict[str, list[Tool]] = {}
    for corpus in all_corpora:
        plan(corpus)
        tools[corpus.name] = tools_for(corpus, args.jobs, patterns, args.quick)
        run_corpus(corpus, tools[corpus.name], args.repeat, args.slow_budget)

    text = report(all_corpora, tools, args, started)
    (RESULTS_DIR / "results.md").write_text(text, encoding="utf-8")
    raw = {c.name: {key: [s.as_dict() for s in samples] for key, samples in c.samples.items()} for c in all_corpora}
    (RESULTS_DIR / "results.json").write_text(json.dumps(raw, indent=1), encoding="utf-8")
    print(text)
    return 0


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _check_requirements() -> None:
    missing = []
    for module in ("libcst", "psutil", "yaml", "sqlalchemy", "fastapi", "fixer"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise SystemExit(
            f"missing: {', '.join(missing)}. In the virtualenv that runs the benchmark: "
            "pip install -e . -r bench/requirements.txt"
        )


if __name__ == "__main__":
    sys.exit(main())
