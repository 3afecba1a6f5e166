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

from fixer.model.hooks import field_variable, required_field, settings_config, settings_options

__all__ = [
    "DeclaredType", "DecodedField", "EnvValue", "TEMPLATES", "collection_fields", "declared_types", "decode_failure",
    "env_values", "named_by_environment", "read_env_file",
]

# The environment templates a project ships for its deploy, in the order they are read.
TEMPLATES = (".env.example", ".env.sample", ".env.template", "env.example", ".env.local.example")
# The annotations pydantic-settings treats as complex (read as JSON): typing's and the builtins' collections.
_COLLECTIONS = frozenset({
    "list", "List", "set", "Set", "frozenset", "FrozenSet", "tuple", "Tuple", "dict", "Dict", "Sequence",
    "MutableSequence", "Mapping", "MutableMapping", "AbstractSet", "MutableSet", "Deque", "deque", "DefaultDict",
    "OrderedDict", "Counter",
})
_MAPPINGS = frozenset({"dict", "Dict", "Mapping", "MutableMapping", "DefaultDict", "OrderedDict", "Counter"})
# What pydantic validates a variable's text as, by the annotation's name (its constrained and strict variants too).
_SCALARS = {
    **dict.fromkeys(("bool", "StrictBool"), "bool"),
    **dict.fromkeys(("int", "StrictInt", "PositiveInt", "NonNegativeInt", "NegativeInt", "NonPositiveInt", "conint"),
                    "int"),
    **dict.fromkeys(("float", "StrictFloat", "PositiveFloat", "NonNegativeFloat", "NegativeFloat", "NonPositiveFloat",
                     "confloat", "Decimal", "condecimal", "FiniteFloat"), "float"),
    **dict.fromkeys(("AnyUrl", "AnyHttpUrl", "HttpUrl", "FileUrl", "FtpUrl", "WebsocketUrl", "AnyWebsocketUrl",
                     "RedisDsn", "AmqpDsn", "KafkaDsn", "NatsDsn", "MongoDsn", "ClickHouseDsn", "SnowflakeDsn"), "url"),
    **dict.fromkeys(("PostgresDsn", "AsyncPostgresDsn", "MySQLDsn", "MariaDBDsn", "CockroachDsn"), "database-url"),
    **dict.fromkeys(("EmailStr", "NameEmail"), "email"),
}
# The casts a module applies to what it reads (`int(os.getenv("POOL_SIZE"))`): a value they reject stops the start.
_CASTS = {"int": "int", "float": "float"}
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


@dataclass(frozen=True)
class DeclaredType:
    """The type a start gives a variable it reads from the environment: a settings field's annotation, or the cast
    around an `os.getenv(...)`. A value not of that kind stops the start where the variable is read."""
    name: str  # the settings field (as pydantic names it in its errors); the variable for a cast
    variable: str  # the environment variable it reads (prefix or alias applied)
    kind: str  # text, bool, int, float, list, dict, url, database-url, email, choice
    item: str  # the kind of a list's members ("" for any other kind)
    choices: tuple[str, ...]  # a Literal's values (kind "choice")
    required: bool  # no default and None not accepted (pydantic 1 defaults an Optional field to None)
    default: str | None  # a text default written as a constant (`= "sqlite:///app.db"`, `Field(default="")`)
    path: str
    line: int


def _head(node: ast.expr) -> str:
    target = node.value if isinstance(node, ast.Subscript) else node.func if isinstance(node, ast.Call) else node
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


def _type_kind(annotation: ast.expr) -> tuple[str, str, tuple[str, ...]]:
    """(kind, member kind, choices) of an annotation, as pydantic validates the text of an environment variable."""
    if isinstance(annotation, ast.Subscript) and _head(annotation) == "Annotated":
        first = annotation.slice.elts[0] if isinstance(annotation.slice, ast.Tuple) else annotation.slice
        return _type_kind(first)
    members = [m for m in _members(annotation) if not (isinstance(m, ast.Constant) and m.value is None)
               and ast.unparse(m) != "None"]
    if len(members) != 1:  # a union: a value of any member passes, and text passes a `str` member
        if not members or any(_head(m) in ("str", "Any") for m in members):
            return "text", "", ()
    head = _head(members[0])
    if head == "Literal" and isinstance(members[0], ast.Subscript):
        values = members[0].slice.elts if isinstance(members[0].slice, ast.Tuple) else [members[0].slice]
        return "choice", "", tuple(str(v.value) for v in values if isinstance(v, ast.Constant))
    if head in _MAPPINGS:
        return "dict", "", ()
    if head in _COLLECTIONS:
        inner = members[0].slice if isinstance(members[0], ast.Subscript) else None
        first = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
        return "list", _type_kind(first)[0] if first is not None else "text", ()
    return _SCALARS.get(head, "text"), "", ()


def _text_default(value: ast.expr | None) -> str | None:
    if isinstance(value, ast.Call) and _head(value) == "Field":
        value = next((k.value for k in value.keywords if k.arg == "default"), value.args[0] if value.args else None)
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None


def _env_read(node: ast.expr) -> tuple[str, bool] | None:
    """(variable, required) of `os.getenv("X")`, `os.environ.get("X")`, `os.environ["X"]`; None for any other."""
    if isinstance(node, ast.Subscript) and ast.unparse(node.value).rpartition(".")[2] == "environ":
        key, required = node.slice, True
    elif isinstance(node, ast.Call) and node.args and (
            ast.unparse(node.func).rpartition(".")[2] == "getenv" or ast.unparse(node.func).endswith("environ.get")):
        key, required = node.args[0], len(node.args) == 1 and not node.keywords
    else:
        return None
    return (key.value, required) if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def declared_types(sources: Iterable[tuple[str, str]]) -> list[DeclaredType]:
    """Every variable the Python files read with a declared type: the fields of the settings classes (subclasses
    of `BaseSettings`, in any file) under the variable each reads, and the casts around environment reads."""
    trees = []
    for path, text in sources:
        try:
            trees.append((path, ast.parse(text)))
        except (SyntaxError, ValueError):
            continue
    classes = [(path, node) for path, tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    parents = {node.name: {_head(b) for b in node.bases} for _, node in classes}
    settings = {"BaseSettings"}
    while grown := {name for name, bases in parents.items() if bases & settings} - settings:
        settings |= grown
    nodes = {node.name: node for _, node in classes}

    def prefix(name: str, seen: frozenset[str] = frozenset()) -> str:
        """The class's env_prefix, else the one its settings parent's config gives it (model_config is inherited)."""
        node = nodes.get(name)
        if node is None or name in seen:
            return ""
        if "env_prefix" in settings_options(node):
            return settings_config(node)[0]
        return next((p for b in parents[name] & settings if (p := prefix(b, seen | {name}))), "")

    out = []
    for path, node in classes:
        if node.name not in settings or node.name == "BaseSettings":
            continue
        own = prefix(node.name)
        for item in node.body:
            if not isinstance(item, ast.AnnAssign) or not isinstance(item.target, ast.Name) \
                    or item.target.id.startswith("_") or "ClassVar" in ast.unparse(item.annotation):
                continue
            name, variable = item.target.id, field_variable(item)
            kind, member, choices = _type_kind(item.annotation)
            nullable = any(ast.unparse(m) == "None" for m in _members(item.annotation))
            out.append(DeclaredType(name, variable if variable != name else own + name, kind, member, choices,
                                    required_field(item) and not nullable, _text_default(item.value), path,
                                    item.lineno))
    for path, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CASTS \
                    and len(node.args) == 1 and (read := _env_read(node.args[0])) is not None:
                out.append(DeclaredType(read[0], read[0], _CASTS[node.func.id], "", (), read[1], None, path,
                                        node.lineno))
    return out


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
