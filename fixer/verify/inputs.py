"""The inputs `fixer verify` sends to an app's routes: each call's own, and what a refusal of a repeat means.

Two creates that write one unique column (a title, a slug, an e-mail) must not send one value, or the second
answers 500 for verify's input, not for the app's code; a re-run must not meet the rows of the last one.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from fixer.verify.diagnose import LogError

__all__ = ["decoded", "distinct", "repeated_key", "resolve", "scalars"]


def resolve(node: object, spec: dict) -> dict:
    for _ in range(32):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/")):
            break
        target: object = spec
        for part in node["$ref"][2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
        node = target
    return node if isinstance(node, dict) else {}


_REFERENCE = re.compile(r"(^id$|_id$|Id$|_ids$)")  # a reference to another row: varied, it points nowhere


def distinct(value: object, schema: dict, spec: dict, token: str) -> object:
    """VALUE with each free string, e-mail and number made this call's own (TOKEN: this run's and call's), where the
    field's own schema allows it; the value as drawn when the result would not validate against SCHEMA."""
    varied = _vary(value, schema, spec, token, 0)
    if varied == value:
        return value
    try:
        from jsonschema import FormatChecker, validators
    except ImportError:  # hypothesis-jsonschema brings it
        return value
    rooted = {**schema, "components": spec.get("components", {})}
    checker = validators.validator_for(rooted)(rooted, format_checker=FormatChecker())
    return varied if checker.is_valid(varied) else value


def _vary(value: object, schema: object, spec: dict, token: str, depth: int) -> object:
    schema = resolve(schema, spec)
    if depth > 8 or "enum" in schema or "const" in schema:
        return value
    for key in ("anyOf", "oneOf", "allOf"):
        options = [resolve(o, spec) for o in schema.get(key) or []]
        if options:  # the branch the drawn value is of: the first whose type fits
            fitting = [o for o in options if _fits(value, o, spec)]
            return _vary(value, fitting[0], spec, token, depth + 1) if len(fitting) == 1 or key == "allOf" and fitting \
                else value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        return {k: v if _REFERENCE.search(k) else _vary(v, props.get(k, {}), spec, token, depth + 1)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_vary(v, schema.get("items", {}), spec, token, depth + 1) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _vary_string(value, schema, token)
    if isinstance(value, int):
        return _vary_number(value, schema, int.from_bytes(token.encode()[-3:], "big") % 100_000 + 1)
    return value


def _fits(value: object, schema: dict, spec: dict) -> bool:
    kind = schema.get("type")
    if kind is None:
        return "$ref" not in schema and bool(schema.get("properties")) == isinstance(value, dict)
    types = kind if isinstance(kind, list) else [kind]
    python = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict,
              "array": list, "null": type(None)}
    return any(isinstance(value, python.get(t, object)) and not (t in ("integer", "number") and isinstance(value, bool))
               for t in types)


def _vary_string(value: str, schema: dict, token: str) -> str:
    fmt = schema.get("format")
    if fmt == "email" and "@" in value:
        local, _, domain = value.rpartition("@")
        candidates = [f"{token}.{local}@{domain}", f"{token}@example.com"]
    elif fmt:
        return value  # a date, a uuid, a URL: a token does not fit
    else:
        candidates = [value + token, token]
    longest = schema.get("maxLength")
    for candidate in candidates:
        if isinstance(longest, int) and len(candidate) > longest:
            candidate = candidate[-longest:] if fmt is None else ""
        if len(candidate) < int(schema.get("minLength", 0)) or candidate == value or not candidate:
            continue
        pattern = schema.get("pattern")
        try:
            if isinstance(pattern, str) and not re.search(pattern, candidate):
                continue
        except re.error:
            return value
        return candidate
    return value


def _vary_number(value: int, schema: dict, step: int) -> int:
    candidate = value + step * int(schema.get("multipleOf", 1) if isinstance(schema.get("multipleOf"), int) else 1)
    if isinstance(schema.get("maximum"), (int, float)) and candidate > schema["maximum"]:
        return value
    if isinstance(schema.get("exclusiveMaximum"), (int, float)) and candidate >= schema["exclusiveMaximum"]:
        return value
    return candidate


_DUPLICATE = re.compile(r"Key \((?P<columns>[^)]*)\)=\((?P<values>.*?)\) already exists")


def repeated_key(error: LogError | None, sent: set[str]) -> str:
    """The unique key a 5xx broke, e.g. "(kind)=(main)", when each of its values is one verify sent before: the
    app refused a repeat of verify's own input. "" for any other error, or a value the app made up itself."""
    found = _DUPLICATE.search(f"{error.message}\n{error.traceback}") if error is not None else None
    if found is None:
        return ""
    columns = found["columns"].split(", ")
    values = found["values"].split(", ") if len(columns) > 1 else [found["values"]]
    if len(values) != len(columns) or not all(v.strip().casefold() in sent for v in values):
        return ""
    return f"({found['columns']})=({found['values']})"


def scalars(value: object) -> set[str]:
    """Each scalar in VALUE as PostgreSQL prints it in a key's DETAIL, case folded."""
    if isinstance(value, dict):
        return {s for v in value.values() for s in scalars(v)}
    if isinstance(value, list):
        return {s for v in value for s in scalars(v)}
    if isinstance(value, bool):
        return {"t", "true"} if value else {"f", "false"}
    return {str(value).strip().casefold()} if value is not None else set()


def decoded(body: bytes | None, kind: str | None) -> object:
    if body is None:
        return None
    text = body.decode("utf-8", errors="replace")
    if kind == "application/json":
        try:
            return json.loads(text)
        except ValueError:
            return None
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text))
    return re.findall(r'name="[^"]*"\r\n\r\n(.*?)\r\n', text)  # multipart: each part's value
