"""What a pydantic-settings class does with the values the start's environment gives its collection fields.

pydantic-settings reads a field typed as a collection (`list[str]`, `List[str]`, `set`, `tuple`, `dict`,
`Sequence`, ...) from the environment or a dotenv file as JSON: `CORS_ORIGINS=http://a,http://b` (the form
example files and platforms' dashboards show) stops the start at `Settings()` with
`SettingsError: error parsing value for field "CORS_ORIGINS" from source "EnvSettingsSource"`, before any
validator of the class runs. In a union with None (`Optional[list[str]]`) a value that is not JSON is passed on
as the raw string, which a `list` field rejects (a ValidationError) unless a validator of the class converts it.
`Annotated[..., NoDecode]` (pydantic-settings 2.7) and `enable_decoding=False` turn the JSON reading off.

The values are those the documented start sees: the environment template the project ships (`.env.example`
and its kin: what a deploy copies into the platform's environment), else the env file the class itself reads.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fixer.model.hooks import field_variable, settings_options

__all__ = ["DecodedField", "EnvValue", "TEMPLATES", "collection_fields", "decode_failure", "env_values", "named_by_environment", "read_env_file"]

# The environment templates a project ships for its deploy, in the order they are read.
TEMPLATES = (".env.example", ".env.sample", ".env.template", "env.example", ".env.local.example")
# The annotations pydantic-settings treats as complex (read as JSON): typing's and the builtins' collections.
_COLLECTIONS = frozenset({
    "list", "List", "set", "Set", "frozenset", "FrozenSet", "tuple", "Tuple", "dict", "Dict", "Sequence",
    "MutableSequence", "Mapping", "MutableMapping", "AbstractSet", "MutableSet", "Deque", "deque", "DefaultDict",
    "OrderedDict", "Counter",
})
# The files that set a deploy's environment: env files and their templates, Dockerfiles, compose files.
_ENV_FILES = re.compile(r"(?:^|/)(?:\.env[\w.-]*|env\.[\w.-]+|[\w.-]*\.env|Dockerfile[\w.-]*|[\w.-]*compose[\w.-]*\.ya?ml)$")
_COMPOSE = re.compile(r"compose[\w.-]*\.ya?ml$", re.IGNORECASE)
_TEMPLATE = re.compile(r"example|sample|template|\.dist$", re.IGNORECASE)
_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$")


@dataclass(frozen=True)
class DecodedField:
    name: str  # the attribute, as pydantic-settings names it in its error
    variable: str  # the environment variable it reads (prefix or alias applied)
    line: int
    union: bool  # Optional[list[str]]: a value that is not JSON passes on as a string instead of raising


@dataclass(frozen=True)
class EnvValue:
    key: str  # as the file writes it
    value: str
    path: str  # the file that sets it, relative to the backend
    line: int
    source: str  # EnvSettingsSource (a template, copied into the environment) or DotEnvSettingsSource


def _head(node: ast.expr) -> str:
    target = node.value if isinstance(node, ast.Subscript) else node
    return ast.unparse(target).rpartition(".")[2]


def _members(node: ast.expr) -> list[ast.expr]:
    """The members of a union annotation (`Optional[X]`, `Union[X, Y]`, `X | None`); [node] for any other."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _members(node.left) + _members(node.right)
    if isinstance(node, ast.Subscript) and _head(node) == "Optional":
        return [node.slice, ast.Constant(None)]
    if isinstance(node, ast.Subscript) and _head(node) == "Union":
        return list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    return [node]


def _kind(annotation: ast.expr) -> str | None:
    """"json" when pydantic-settings decodes the field as JSON and raises on anything else, "union" when it
    passes a value that is not JSON on as a string, None when it reads the value as text."""
    if isinstance(annotation, ast.Subscript) and _head(annotation) == "Annotated":
        parts = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        if any(_head(p) == "NoDecode" for p in parts[1:]):
            return None
        return _kind(parts[0])
    members = _members(annotation)
    if len(members) == 1:
        return "json" if _head(annotation) in _COLLECTIONS else None
    heads = [_head(m) for m in members]
    if any(h in ("str", "Any") for h in heads) or not any(h in _COLLECTIONS for h in heads):
        return None
    return "union"


def _validated(node: ast.ClassDef, field: str) -> bool:
    """Whether a validator of the class names the field (it may convert a raw string)."""
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in item.decorator_list:
                if isinstance(decorator, ast.Call) and "validator" in ast.unparse(decorator.func) and any(
                        isinstance(a, ast.Constant) and a.value in (field, "*") for a in decorator.args):
                    return True
    return False


def collection_fields(node: ast.ClassDef, prefix: str) -> list[DecodedField]:
    """The fields of a settings class that pydantic-settings reads as JSON from the environment."""
    options = settings_options(node)
    if options.get("enable_decoding") is False:
        return []
    out = []
    for item in node.body:
        if not isinstance(item, ast.AnnAssign) or not isinstance(item.target, ast.Name):
            continue
        kind = _kind(item.annotation)
        name = item.target.id
        if kind is None or name.startswith("_") or "ClassVar" in ast.unparse(item.annotation):
            continue
        if kind == "union" and _validated(node, name):
            continue
        variable = field_variable(item)
        out.append(DecodedField(name, variable if variable != name else prefix + name, item.lineno, kind == "union"))
    return out


def _read(path: Path, rel: str, source: str, into: dict[str, EnvValue]) -> None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        match = _LINE.match(line)
        if not match or line.lstrip().startswith("#") or match.group(1) in into:
            continue
        value = match.group(2).strip()
        if value[:1] in ("'", '"'):
            # python-dotenv reads a quoted value up to its closing quote, across lines (a JSON list laid out).
            quote, body, end = value[0], value[1:], number
            while quote not in body and end < len(lines):
                body, end = body + "\n" + lines[end], end + 1
            if quote not in body:
                continue  # never closed: what python-dotenv makes of it is not decided here
            value = body.split(quote, 1)[0]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        into[match.group(1)] = EnvValue(match.group(1), value, rel, number, source)


def env_values(backend: Path, run_dir: Path, env_file: str | None) -> dict[str, EnvValue]:
    """The variables the documented start's environment sets: the shipped templates' (backend folder first, then
    the start folder), then the env file the settings class reads from the start folder, which the environment
    overrides."""
    values: dict[str, EnvValue] = {}
    for folder in dict.fromkeys((backend, run_dir)):
        for name in TEMPLATES:
            path = folder / name
            if path.is_file():
                _read(path, path.relative_to(backend).as_posix() if path.is_relative_to(backend) else name,
                      "EnvSettingsSource", values)
    if env_file:
        path = run_dir / env_file
        if path.is_file():
            rel = path.resolve().relative_to(backend).as_posix() if path.resolve().is_relative_to(backend) else env_file
            _read(path, rel, "DotEnvSettingsSource", values)
    return values


def read_env_file(path: Path) -> dict[str, str]:
    """The variables an env file sets, as python-dotenv reads them ({} when it cannot be read)."""
    into: dict[str, EnvValue] = {}
    _read(path, path.name, "DotEnvSettingsSource", into)
    return {key: found.value for key, found in into.items()}


def decode_failure(field: DecodedField, values: dict[str, EnvValue], case_sensitive: bool) -> EnvValue | None:
    """The value that stops `Settings()` on this field: one that is set, not empty, and not JSON."""
    found = values.get(field.variable)
    if found is None and not case_sensitive:
        found = next((v for k, v in values.items() if k.lower() == field.variable.lower()), None)
    if found is None or not found.value:
        return None  # unset: the default; empty: whether it counts as unset depends on env_ignore_empty
    try:
        json.loads(found.value)
    except ValueError:
        return found
    return None


def named_by_environment(backend: Path, paths: Iterable[str], names: set[str]) -> bool:
    """Whether a file that sets the deployed start's environment (an env file, a template of the backend folder the
    deploy copies, a Dockerfile's ENV) names one of `names` as a variable (any case, with any prefix: `app_name`
    is read as APP_NAME or MYAPP_APP_NAME): what the start gets there is not known to be the code's default. A
    compose file is no such file, nor a template elsewhere in the tree: the platform reads neither, and sets
    only the database URL's variable."""
    if not names:
        return False
    named = re.compile(r"(?<!\w)(?:\w*_)?(?:" + "|".join(map(re.escape, names)) + r")(?!\w)", re.IGNORECASE)
    for rel in paths:
        folder, _, name = rel.rpartition("/")
        if not _ENV_FILES.search(rel) or name.endswith(".py") or _COMPOSE.search(name) \
                or (folder and _TEMPLATE.search(name)):
            continue
        try:
            if named.search((backend / rel).read_text(encoding="utf-8", errors="replace")):
                return True
        except OSError:
            continue
    return False
