"""A throwaway PostgreSQL server with password (scram-sha-256) authentication on 127.0.0.1.

With ``tls=True`` it also accepts TLS, with a certificate for 127.0.0.1 signed by a CA made at start (the
``openssl`` command), so that the platform URL's ``sslmode=require&channel_binding=require`` is honoured for real
rather than rewritten: SCRAM over TLS gives libpq and asyncpg the channel binding they ask for. A client that
verifies certificates (asyncpg's ``ssl=True``) trusts the platform's public CA; give it ``ca_file`` the same way
(e.g. ``SSL_CERT_FILE``). That needs a build with OpenSSL (the
OS package has it; the pgserver wheel is built without).

Binaries come from the ``pgserver`` wheel (``pip install 'fixer[verify]'``; see PGSERVER_WHEELS) if installed,
else from ``initdb``/``pg_ctl`` on PATH, else from ``/usr/lib/postgresql/*/bin``. When running as root the
server runs as an unprivileged system user (PostgreSQL refuses to run as root). It listens on 127.0.0.1 only,
and is stopped and deleted on exit, whatever the exit (an exception, Ctrl-C).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from fixer.verify.interrupts import starting

__all__ = ["PostgresNotAvailable", "PostgresServer", "find_postgres_binaries", "throwaway_postgres"]

KIND_PGSERVER = "pgserver wheel"
KIND_PATH = "PATH binaries"
SYSTEM_USER = "pgserver"  # same unprivileged user pgserver itself creates when run as root
_REQUIRED = ("initdb", "pg_ctl", "postgres", "psql")
# pgserver 0.1.4's wheels (PyPI): where `pip install 'fixer[verify]'` brings a server, and where it cannot.
PGSERVER_WHEELS = (
    "it has wheels for CPython 3.9 to 3.12 on Linux (manylinux, glibc), macOS and Windows, none for CPython 3.13 "
    "or later or for musl Linux (Alpine)"
)


class PostgresNotAvailable(RuntimeError):
    """No usable PostgreSQL binaries, or the server could not be started."""


@dataclass(frozen=True)
class PostgresServer:
    url: str  # postgresql://USER:PASSWORD@127.0.0.1:PORT/DB
    kind: str  # "pgserver wheel" or "PATH binaries"
    bin_dir: Path
    version: str  # e.g. "postgres (PostgreSQL) 16.2"
    ca_file: Path | None = None  # with tls: the CA that signed the server's certificate (clients may trust it)
    _query: Callable[[str], str] | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        return self.url

    def query(self, sql: str) -> str:
        """Run ``sql`` in the app's database as the superuser, over the private socket; psql's unaligned output."""
        if self._query is None:
            raise PostgresNotAvailable("this server takes no queries")
        return self._query(sql)

    def create_database(self, name: str) -> str:
        """A new database owned by the app's role; the same URL with that database's name."""
        self.query(f'CREATE DATABASE "{name}" OWNER "{unquote(urlsplit(self.url).username or "")}"')
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path="/" + quote(name, safe="")))

    def app_activity(self) -> tuple[int, int]:
        """(open connections of the app's role, tables outside the system schemas) in the app's database."""
        out = self.query(
            "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND usename <> 'postgres'), "
            "(SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema'))"
        )
        connections, tables = out.strip().split("|")
        return int(connections), int(tables)


def _pgserver_bin_dir() -> Path | None:
    # Locate the wheel's binaries without importing pgserver (its import has side effects).
    try:
        spec = importlib.util.find_spec("pgserver")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        bin_dir = Path(location) / "pginstall" / "bin"
        if bin_dir.is_dir():
            return bin_dir
    return None


def _has_tls(bin_dir: Path) -> bool:
    try:
        configure = subprocess.run([str(bin_dir / "pg_config"), "--configure"], capture_output=True, text=True,
                                   timeout=30).stdout
    except OSError:
        return False
    return "--with-openssl" in configure or "--with-ssl=openssl" in configure


def _candidates(tls: bool = False) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    wheel = _pgserver_bin_dir()
    if wheel is not None:
        found.append((KIND_PGSERVER, wheel))
    on_path = shutil.which("pg_ctl")
    if on_path:
        found.append((KIND_PATH, Path(os.path.realpath(on_path)).parent))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0, reverse=True)
    found.extend((KIND_PATH, Path(p)) for p in versions)
    unique: list[tuple[str, Path]] = []
    for kind, bin_dir in found:
        if tls and not _has_tls(bin_dir):
            continue
        if all((bin_dir / exe).exists() for exe in _REQUIRED) and bin_dir not in [b for _, b in unique]:
            unique.append((kind, bin_dir))
    return unique


def _run_as() -> dict[str, int]:
    """subprocess kwargs to drop root privileges (empty when not root)."""
    if os.name != "posix" or os.geteuid() != 0:
        return {}
    import pwd

    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        try:
            subprocess.run(["useradd", "-s", "/bin/bash", SYSTEM_USER], check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or exc
            raise PostgresNotAvailable(
                f"running as root: PostgreSQL needs an unprivileged user and `useradd {SYSTEM_USER}` failed: {detail}"
            ) from exc
        entry = pwd.getpwnam(SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def find_postgres_binaries(tls: bool = False) -> tuple[str, Path, str]:
    """Return (kind, bin_dir, version) of the first PostgreSQL installation that can run here (built with
    OpenSSL when ``tls``)."""
    run_as = _run_as()
    problems: list[str] = []
    if tls and not _candidates(tls):
        raise PostgresNotAvailable(
            "no PostgreSQL built with OpenSSL found (the pgserver wheel has no TLS): install the OS package "
            "(e.g. `apt-get install postgresql`), found on PATH or in /usr/lib/postgresql/VERSION/bin"
        )
    for kind, bin_dir in _candidates(tls):
        try:
            proc = subprocess.run(
                [str(bin_dir / "postgres"), "-V"], capture_output=True, text=True, timeout=30, cwd="/", **run_as
            )
        except OSError as exc:
            problems.append(f"{bin_dir}: {exc}")
            continue
        if proc.returncode == 0:
            return kind, bin_dir, proc.stdout.strip()
        problems.append(f"{bin_dir}: {(proc.stderr or proc.stdout).strip()}")
    import platform

    here = f"this is CPython {platform.python_version()} on {platform.system()} {platform.machine()}"
    hint = (
        "No usable PostgreSQL server binaries found. fixer verify boots the app against a throwaway PostgreSQL. "
        "Either: "
        f"(1) `pip install 'fixer[verify]'`, the pgserver wheel, which bundles PostgreSQL: {PGSERVER_WHEELS} "
        f"({here}); (2) the OS package that provides initdb and pg_ctl (e.g. `apt-get install postgresql`, "
        "found on PATH or in /usr/lib/postgresql/VERSION/bin); or (3) a server you already have: "
        "`fixer verify --database-url URL` (a Neon branch works), and for fixer's own tests "
        "FIXER_TEST_DATABASE_URL=URL."
    )
    if problems:
        hint += " Tried: " + "; ".join(problems)
        if run_as:
            hint += f" (binaries must be readable and executable by the unprivileged user {SYSTEM_USER!r})"
    raise PostgresNotAvailable(hint)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(
    args: list[str], run_as: dict[str, int], cwd: Path, what: str, timeout: float = 120,
    extra_env: Mapping[str, str] | None = None,
) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(extra_env or {})
    env.update(LC_ALL="C", LANG="C")
    try:
        proc = subprocess.run(
            args, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, stdin=subprocess.DEVNULL, **run_as
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PostgresNotAvailable(f"{what} failed: {exc}") from exc
    if proc.returncode != 0:
        raise PostgresNotAvailable(f"{what} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


@contextmanager
def throwaway_postgres(
    user: str = "fixer", database: str = "fixer", start_timeout: int = 60, env: Mapping[str, str] | None = None,
    tls: bool = False,
) -> Iterator[PostgresServer]:
    """Start a fresh PostgreSQL server in a temporary directory; stop it and delete everything on exit.

    ``env`` is added to the server processes' environment (e.g. a marker to find them by). ``tls``: see the
    module's doc.
    """
    kind, bin_dir, version = find_postgres_binaries(tls)
    run_as = _run_as()
    tmp = Path(tempfile.mkdtemp(prefix="fixer-pg-"))
    data, socket_dir = tmp / "data", tmp / "sock"
    try:
        socket_dir.mkdir()
        if run_as:
            for path in (tmp, socket_dir):
                os.chown(path, run_as["user"], run_as["group"])
        _run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-locale",
             "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"],
            run_as, tmp, "initdb",
        )
        tls_options, ca_file = certificates(tmp, run_as) if tls else ("", None)
        for attempt in range(3):
            port = _free_port()
            options = f"-h 127.0.0.1 -p {port} -k {socket_dir} -c password_encryption=scram-sha-256 -c fsync=off"
            options += tls_options
            try:
                # Interrupted half-way, pg_ctl could leave a postmaster that has not yet written the
                # postmaster.pid the cleanup looks for: Ctrl-C waits until the server is up (or failed).
                with starting():
                    _run(
                        [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(tmp / "server.log"), "-w",
                         "-t", str(start_timeout), "-o", options, "start"],
                        run_as, tmp, "pg_ctl start", timeout=start_timeout + 30, extra_env=env,
                    )
                break
            except PostgresNotAvailable as exc:
                log = (tmp / "server.log").read_text(errors="replace") if (tmp / "server.log").exists() else ""
                if attempt == 2 or "could not bind" not in log:  # retry only a lost race for the port
                    raise PostgresNotAvailable(f"{exc}\nserver log:\n{log}") from exc
        password = secrets.token_urlsafe(18)
        _run(
            [str(bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(socket_dir), "-p", str(port),
             "-U", "postgres", "-d", "postgres",
             "-c", f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'",
             "-c", f"CREATE DATABASE \"{database}\" OWNER \"{user}\""],
            run_as, tmp, "creating the role and database",
        )
        url = f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}/{quote(database, safe='')}"

        def query(sql: str) -> str:
            return _run(
                [str(bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", str(socket_dir),
                 "-p", str(port), "-U", "postgres", "-d", database, "-c", sql],
                run_as, tmp, "psql", timeout=30,
            )

        yield PostgresServer(url=url, kind=kind, bin_dir=bin_dir, version=version, ca_file=ca_file, _query=query)
    finally:
        try:
            # Whenever a postmaster may be up (even if pg_ctl start was interrupted half-way), stop it.
            if (data / "postmaster.pid").exists():
                _stop(bin_dir, data, run_as, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def certificates(tmp: Path, run_as: dict[str, int]) -> tuple[str, Path]:
    """A throwaway CA and a server certificate it signs for 127.0.0.1 and localhost, under TMP: the server
    options that use them, and the CA's file, which a client trusts as one trusts a platform's public CA.
    Both pass X.509 strict checking (Python 3.13's default: the CA's key usage, key identifiers), as a
    public CA's certificates do."""
    ca_key, ca, key, request, cert = (tmp / n for n in ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt"))
    extensions = tmp / "server.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    steps = (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=fixer throwaway CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
         "-extfile", extensions],
    )
    for step in steps:
        try:
            proc = subprocess.run(["openssl", *map(str, step)], capture_output=True, text=True, timeout=60,
                                  stdin=subprocess.DEVNULL, cwd=tmp)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresNotAvailable(f"a TLS certificate needs the openssl command: {exc}") from exc
        if proc.returncode != 0:
            raise PostgresNotAvailable(f"openssl {step[0]} failed: {proc.stderr.strip()}")
    key.chmod(0o600)  # the server refuses a key others can read
    if run_as:
        for path in (key, cert):
            os.chown(path, run_as["user"], run_as["group"])
    return f" -c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}", ca


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] not in ("Z", "X")  # a zombie is not running
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return os.name != "posix" or not Path("/proc/self").exists()


def _stop(bin_dir: Path, data: Path, run_as: dict[str, int], cwd: Path) -> None:
    """pg_ctl stop -m fast, then -m immediate, then SIGKILL the postmaster's process group: never leave it running."""
    pid = _postmaster_pid(data)
    for mode in ("fast", "immediate"):
        try:
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-t", "30", "-m", mode, "stop"],
                 run_as, cwd, f"pg_ctl stop -m {mode}", timeout=60)
            return
        except PostgresNotAvailable:
            if pid is None or not _alive(pid):
                return
    if pid is not None:
        for send in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                send()
            except OSError:
                pass
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
