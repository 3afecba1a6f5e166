"""The real-world bench's virtualenvs: a backend's requirements installed as a fresh install would (uv when
present), cached by their hash; only successful installs are cached."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

INSTALL_TIMEOUT = 900

def _as_fixer_reads(backend: Path) -> tuple:
    """The backend's files as fixer's model is given them: a reader of their text and their paths."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from fixer.discover.files import discover

    def read_text(rel: str) -> str | None:
        try:
            return (backend / rel).read_text(errors="replace")
        except OSError:
            return None

    return read_text, list(discover(backend, []))


def project_interpreter(backend: Path, start_file: str | None = None) -> str:
    """The CPython the project runs on, as fixer's model reads it (.python-version, runtime.txt, the Dockerfile's
    `FROM python:X`, requires-python: fixer.model.freshinstall.project_python_version), when this machine has it;
    else the bench's own. The prediction is made for that version: installing on another one measures the
    machine (a wheel 3.13 lacks, PEP 695 syntax 3.11 cannot parse), not the prediction."""
    from fixer.model.freshinstall import project_python_version

    wanted = project_python_version(*_as_fixer_reads(backend), start_file)
    if wanted == f"{sys.version_info.major}.{sys.version_info.minor}":
        return sys.executable
    for candidate in (shutil.which(f"python{wanted}"), *sorted(Path.home().glob(f".pyenv/versions/{wanted}.*/bin/python"))):
        if candidate and subprocess.run([str(candidate), "-c", "import sys"], capture_output=True).returncode == 0:
            return str(candidate)
    return sys.executable


def interpreter_version(python: str) -> str:
    out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True)
    return out.stdout.strip()


def find_requirements(backend: Path, start_file: str | None = None) -> tuple[str, Path | None]:
    """('requirements', file) | ('lock', lock file) | ('pyproject', file) | ('none', None): the install the
    documented start uses (`start_file`: the file that documents it), as fixer's model decides it
    (fixer.model.freshinstall.install_plan), so that the bench installs what the prediction assumes."""
    from fixer.model.freshinstall import install_plan

    plan = install_plan(*_as_fixer_reads(backend), start_file)
    return plan.kind, (backend / plan.file if plan.file else None)


def _req_closure(req: Path, seen: set[Path] | None = None) -> list[Path]:
    seen = seen if seen is not None else set()
    if req in seen or not req.is_file():
        return []
    seen.add(req)
    out = [req]
    for line in req.read_text(errors="replace").splitlines():
        m = re.match(r"\s*(?:-r|--requirement|-c|--constraint)\s*=?\s*(\S+)", line)
        if m:
            out += _req_closure((req.parent / m.group(1)).resolve(), seen)
    return out


def _caret(spec: str) -> str:
    """Poetry ^/~ constraints to PEP 440 (enough for installing)."""
    spec = spec.strip()
    if spec in ("*", ""):
        return ""
    # a pre-release or post suffix stays on the lower bound (`^2.0.0b3` is >=2.0.0b3,<3.0.0)
    suffix = r"((?:[.-]?(?:a|b|c|rc|alpha|beta|pre|post|dev)\d*)*)"
    m = re.fullmatch(r"\^(\d+)(?:\.(\d+))?(?:\.(\d+))?" + suffix, spec)
    if m:
        parts = [int(p) if p is not None else None for p in m.groups()[:3]]
        base = ".".join(str(p) for p in parts if p is not None) + m.group(4)
        major, minor, patch = (p or 0 for p in parts)
        if major:
            upper = f"{major + 1}.0.0"
        elif minor or parts[1] is None:
            upper = f"0.{minor + 1}.0" if parts[1] is not None else "1.0.0"
        else:
            upper = f"0.0.{patch + 1}"
        return f">={base},<{upper}"
    m = re.fullmatch(r"~(\d+)(?:\.(\d+))?(?:\.(\d+))?" + suffix, spec)
    if m:
        parts = [p for p in m.groups()[:3] if p is not None]
        base = ".".join(parts) + m.group(4)
        if len(parts) >= 2:
            return f">={base},<{parts[0]}.{int(parts[1]) + 1}.0"
        return f">={base},<{int(parts[0]) + 1}.0.0"
    if re.fullmatch(r"\d[\w.]*", spec):
        return f"=={spec}"
    return spec


def pyproject_deps(pp: Path) -> list[str]:
    import tomllib

    data = tomllib.loads(pp.read_text())
    deps = list(data.get("project", {}).get("dependencies", []) or [])
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {}) or {}
    for name, spec in poetry.items():
        if name.lower() == "python":
            continue
        extras = ""
        if isinstance(spec, dict):
            extras = "[" + ",".join(spec.get("extras", [])) + "]" if spec.get("extras") else ""
            spec = spec.get("version", "*")
        if isinstance(spec, list):
            spec = spec[0].get("version", "*") if spec and isinstance(spec[0], dict) else "*"
        deps.append(f"{name}{extras}{_caret(str(spec))}")
    return deps


def req_hash(kind: str, path: Path | None, python: str = "") -> str:
    h = hashlib.sha256(f"{kind}|{python or sys.version_info[:2]}".encode())
    if path is not None:
        files = _req_closure(path) if kind == "requirements" else [path]
        if kind == "lock" and (path.parent / "pyproject.toml").is_file():
            files.append(path.parent / "pyproject.toml")
            h.update(b"markers")  # lock installs once took every package, pywin32 too: those venvs are no longer it
        for f in files:
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def local_wheel_args(work: Path) -> list[str]:
    """uv reads no pip configuration: hand it pip's find-links folders, and pin the heavy packages whose
    wheels lie there (torch's CPU build) so that an install never pulls gigabytes of CUDA wheels."""
    dirs = [d for d in re.split(r"[\s]+", os.environ.get("PIP_FIND_LINKS", "")) if d]
    try:
        out = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.find-links"],
                             capture_output=True, text=True, timeout=30).stdout
        dirs += out.split()
    except Exception:  # noqa: BLE001
        pass
    args: list[str] = []
    pins: dict[str, str] = {}
    for d in dict.fromkeys(dirs):
        if not Path(d).is_dir():
            continue
        args += ["--find-links", d]
        for whl in Path(d).glob("*.whl"):
            name, version = whl.name.split("-")[:2]
            if name.lower() in ("torch", "torchvision", "torchaudio"):
                pins[name.lower()] = version
    if pins:
        work.mkdir(parents=True, exist_ok=True)
        f = work / "overrides.txt"
        f.write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
        args += ["--override", str(f)]
    return args


def machine_substitute(args: list[str], output: str) -> str | None:
    """`torch==2.13.0+cpu` when the resolver's failure names a pin `local_wheel_args` put in place of the
    project's own (the substitute's tags, or its requirements, conflict); None otherwise."""
    if "--override" not in args or "No solution found" not in output:
        return None
    pins = Path(args[args.index("--override") + 1]).read_text().split()
    return next((pin for pin in pins if re.search(re.escape(pin) + r"(?![\w.+])", output)), None)


def uv_exe() -> str | None:
    cand = Path(sys.executable).parent / "uv"
    return str(cand) if cand.exists() else shutil.which("uv")


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _tail_error(text: str) -> str:
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for i, l in enumerate(lines):
        if re.search(r"(^error|ERROR:|No solution found|Because |requires a different Python|Failed to build|Failed to)", l):
            if "No solution found" in l and i + 1 < len(lines) and lines[i + 1].startswith("cause:"):
                # which requirements conflict: the prediction names them too
                return (l + ": " + lines[i + 1].removeprefix("cause:").strip())[:300]
            return l[:240]
    return (lines[-1] if lines else "")[:240]


def lock_requirements(lock: Path, uv: str | None, run, python: str) -> str | None:
    """The lock's versions a `uv sync` or `poetry install` takes (with the dev groups, as both do unless told
    otherwise, and as fixer's model reads a lock), as a requirements text with the markers of CPython `python`
    on Linux (pywin32 stays out): `uv export` of a uv.lock; a poetry lock walked from the pyproject's
    dependencies; the pinned packages of another lock (pdm) otherwise; None when the lock cannot be read."""
    if lock.name == "uv.lock" and uv:
        p = run([uv, "export", "--frozen", "--no-hashes", "--no-emit-project", "--no-header"], lock.parent)
        return p.stdout if p.returncode == 0 else None
    import tomllib

    if lock.name == "Pipfile.lock":
        # JSON: `pipenv install` (as fixer's model reads it) installs the "default" packages, each with its markers
        try:
            default = json.loads(lock.read_text()).get("default", {})
        except (OSError, ValueError):
            return None
        return "".join(f"{name}{spec['version']}" + (f" ; {spec['markers']}" if spec.get("markers") else "") + "\n"
                       for name, spec in default.items() if isinstance(spec, dict) and spec.get("version"))
    try:
        packages = tomllib.loads(lock.read_text()).get("package", [])
    except Exception:  # noqa: BLE001
        return None
    packages = [p for p in packages if isinstance(p, dict) and "version" in p and "name" in p]
    if lock.name == "poetry.lock" and (lock.parent / "pyproject.toml").is_file():
        walked = _poetry_installed(packages, lock.parent / "pyproject.toml", python)
        if walked is not None:
            return walked
    return "".join(f"{p['name']}=={p['version']}\n" for p in packages)


def _poetry_installed(packages: list[dict], pyproject: Path, python: str) -> str | None:
    """What `poetry install` installs from poetry.lock on Linux: the packages the pyproject's dependencies (its
    groups too) reach through the lock's dependency tables, whose markers hold for CPython `python` (an
    optional dependency only through an extra asked for). None when the pyproject is unreadable."""
    import tomllib

    from packaging.markers import InvalidMarker, Marker
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from fixer.model.versions import environment, holds as marker_holds

    env = environment(python)

    def holds(marker: str | None, extras: set[str]) -> bool:
        if not marker:
            return True
        try:
            return marker_holds(Marker(marker), env, extras)
        except InvalidMarker:
            return True

    def entries(spec) -> list[dict]:
        """A dependency's spec as tables: `"^1.0"`, `{version, markers, extras}`, or a list of such."""
        return [s if isinstance(s, dict) else {"version": s} for s in (spec if isinstance(spec, list) else [spec])]

    try:
        data = tomllib.loads(pyproject.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    poetry = data.get("tool", {}).get("poetry", {})
    declared = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {},
                *((g or {}).get("dependencies") or {} for g in (poetry.get("group") or {}).values()
                 if not (g or {}).get("optional"))]  # `poetry install` leaves an optional group out
    roots: list[tuple[str, set[str]]] = []
    for name, spec in (pair for table in declared for pair in table.items()):
        if name.lower() == "python":
            continue
        for entry in entries(spec):
            if not entry.get("optional") and holds(entry.get("markers"), set()):
                roots.append((canonicalize_name(name), set(entry.get("extras", []))))
                break
    for line in data.get("project", {}).get("dependencies") or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is None or holds(str(req.marker), set()):
            roots.append((canonicalize_name(req.name), set(req.extras)))
    by_name: dict[str, list[dict]] = {}
    for package in packages:
        by_name.setdefault(canonicalize_name(package["name"]), []).append(package)
    chosen: dict[str, dict] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    while roots:
        name, extras = roots.pop()
        if (name, frozenset(extras)) in seen or name not in by_name:
            continue
        seen.add((name, frozenset(extras)))
        # One name may be locked twice (a wheel URL per platform): the one whose source fits Linux.
        candidates = by_name[name]
        package = next((p for p in candidates if "linux" in str(p.get("source", {}).get("url", ""))), candidates[0])
        chosen[name] = package
        wanted = {canonicalize_name(r.split()[0].split("[")[0].split("(")[0])
                  for extra in extras for r in (package.get("extras") or {}).get(extra, [])}
        for dep, spec in (package.get("dependencies") or {}).items():
            for entry in entries(spec):
                if entry.get("optional") and canonicalize_name(dep) not in wanted:
                    continue
                if holds(entry.get("markers"), extras):
                    roots.append((canonicalize_name(dep), set(entry.get("extras", []))))
                    break
    lines = []
    for name, package in sorted(chosen.items()):
        source = package.get("source") or {}
        url = source.get("url") if source.get("type") == "url" else None
        lines.append(f"{name} @ {url}\n" if url else f"{name}=={package['version']}\n")
    return "".join(lines)


def build_venv(backend: Path, cache: Path, log: Path, start_file: str | None = None) -> tuple[str, Path | None, str]:
    """Returns (status, python, what was installed). status: 'ok', 'ok (deps only: ...)', 'failed: ...', 'none'."""
    kind, path = find_requirements(backend, start_file)
    if kind == "none":
        return "no requirements file", None, "none"
    interpreter = project_interpreter(backend, start_file)
    version = interpreter_version(interpreter)
    # the bench's own CPython keeps its old key (its venvs stay cached); another one gets its own
    key = req_hash(kind, path, "" if interpreter == sys.executable else version)
    venv = cache / key
    py = venv / "bin" / "python"
    marker = venv / ".fixer-rw.json"
    with _lock(key):
        if marker.exists():  # only successful installs are cached: a failure (network, resolver) is retried
            info = json.loads(marker.read_text())
            if info["status"].startswith("ok"):
                return info["status"], py, info["what"]
        if venv.exists():
            shutil.rmtree(venv)
        uv = uv_exe()
        what = f"{kind}:{path.name}" + ("" if interpreter == sys.executable else f" on CPython {version}")
        logs = []

        def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
            env = dict(os.environ)
            env.pop("VIRTUAL_ENV", None)
            try:
                p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=env)
            except subprocess.TimeoutExpired:
                p = subprocess.CompletedProcess(cmd, 124, "", f"error: timed out after {INSTALL_TIMEOUT}s")
            logs.append(f"$ {' '.join(cmd)}\n{p.stdout}\n{p.stderr}\n")
            return p

        extra: list[str] = []
        if uv:
            run([uv, "venv", "-q", "--no-config", "--python", interpreter, str(venv)], backend)
            extra = local_wheel_args(cache)
            install = lambda args: run([uv, "pip", "install", "--no-config", "--python", str(py), *extra, *args], backend)  # noqa: E731
        else:
            run([interpreter, "-m", "venv", str(venv)], backend)
            install = lambda args: run([str(py), "-m", "pip", "install", "-q", *args], backend)  # noqa: E731
        if kind == "requirements":
            p = install(["-r", str(path)])
            status = "ok" if p.returncode == 0 else "failed: " + _tail_error(p.stderr + p.stdout)
        elif kind == "lock" and (pinned := lock_requirements(path, uv, run, version)) is not None:
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
                fh.write(pinned)
            p = install(["-r", fh.name])
            os.unlink(fh.name)
            status = "ok" if p.returncode == 0 else "failed: " + _tail_error(p.stderr + p.stdout)
        else:
            path = backend / "pyproject.toml" if kind == "lock" else path
            # `pip install .` of the pyproject (in a copy: building writes into the tree)
            with tempfile.TemporaryDirectory() as tmp:
                src = Path(tmp) / "src"
                shutil.copytree(backend, src, symlinks=True, ignore=shutil.ignore_patterns(".venv", "venv", "node_modules", ".git"))
                p = install([str(src)])
            status = "ok" if p.returncode == 0 else "failed: " + _tail_error(p.stderr + p.stdout)
            if p.returncode != 0:
                # Fallback: the declared dependencies only (e.g. requires-python above this interpreter,
                # or a build backend that finds no package).
                first = status
                try:
                    deps = pyproject_deps(path)
                except Exception as exc:  # noqa: BLE001
                    deps = []
                    logs.append(f"pyproject unreadable: {exc}\n")
                if deps:
                    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
                        fh.write("\n".join(deps) + "\n")
                    p = install(["-r", fh.name])
                    os.unlink(fh.name)
                    what = f"pyproject deps only ({first[8:80]})"
                    status = "ok (deps only)" if p.returncode == 0 else "failed: " + _tail_error(p.stderr + p.stdout)
        substituted = machine_substitute(extra, "".join(logs)) if not status.startswith("ok") else None
        if substituted:
            # The heavy packages install here only from this machine's own wheels (no CUDA downloads, and
            # download.pytorch.org unreachable): when the resolver fails on that substitute (a wheel for another
            # CPython; requirements the project's own pins refuse), the machine failed, not the project.
            status = f"machine: {substituted} is this machine's substitute, which the install cannot take (CPython {version})"
        log.write_text("".join(logs))
        venv.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"status": status, "what": what}))
        return status, (py if status.startswith("ok") else None), what



def ensure_uvicorn(py: Path, log: Path) -> str:
    """The start needs uvicorn: added to the (cached) virtualenv when the requirements lack it."""
    if subprocess.run([str(py), "-c", "import uvicorn"], capture_output=True).returncode == 0:
        return ""
    uv = uv_exe()
    cmd = [uv, "pip", "install", "--no-config", "--python", str(py), "uvicorn"] if uv else [str(py), "-m", "pip", "install", "-q", "uvicorn"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    with log.open("a") as fh:
        fh.write(f"$ {' '.join(cmd)}\n{p.stdout}\n{p.stderr}\n")
    return "uvicorn added" if p.returncode == 0 else "uvicorn install failed"
