"""Deploy runtimes that supply distributions the project need not declare: AWS Lambda's Python runtimes ship
the AWS SDK (boto3 and botocore, with what they require), so a function deployed there imports them with
nothing in its requirements. A start elsewhere (`python main.py` on a laptop) fails on that import, but adding
the SDK to the requirements changes the Lambda deploy (a second, pinned copy in the package), so what the
runtime supplies is reported, never added.

The project deploys to Lambda when it says so: a SAM template or samconfig.toml, a serverless.yml naming the aws
provider, zappa_settings.json, a Dockerfile built on the Lambda base image, or mangum (the ASGI adapter Lambda
needs) among its declared dependencies.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from packaging.utils import canonicalize_name

__all__ = ["supplied"]

# What each runtime's Python image holds beyond the standard library (AWS: "Lambda runtimes" page, "Python
# runtimes include the AWS SDK for Python (Boto3)"); their own requirements come from fixer's tables.
_SUPPLIES: Mapping[str, tuple[str, ...]] = {"AWS Lambda": ("boto3", "botocore")}
_SIGNS: tuple[tuple[str, str, re.Pattern[str] | None], ...] = (
    ("AWS Lambda", r"samconfig\.toml", None),
    ("AWS Lambda", r"template\.ya?ml", re.compile(r"AWS::Serverless|AWS::Lambda::Function")),
    ("AWS Lambda", r"serverless\.ya?ml", re.compile(r"^\s*name:\s*aws\b", re.M)),
    ("AWS Lambda", r"zappa_settings\.(json|ya?ml|toml)", None),
    ("AWS Lambda", r"Dockerfile[\w.-]*", re.compile(r"^\s*FROM\s+public\.ecr\.aws/lambda/python", re.M | re.I)),
)


def supplied(read_text: Callable[[str], str | None], paths: Iterable[str],
             declared: Iterable[str]) -> dict[str, str]:
    """Distribution (canonical) -> the runtime that supplies it and the file that shows the deploy there."""
    from fixer import tables

    where: dict[str, str] = {}
    for path in paths:
        name = posixpath.basename(path)
        for runtime, file, pattern in _SIGNS:
            if runtime not in where and re.fullmatch(file, name, re.I):
                if pattern is None or pattern.search(read_text(path) or ""):
                    where[runtime] = path
    if "AWS Lambda" not in where and "mangum" in {canonicalize_name(d) for d in declared}:
        where["AWS Lambda"] = "mangum in the dependencies"
    out: dict[str, str] = {}
    for runtime, shown in where.items():
        todo = list(_SUPPLIES[runtime])
        while todo:
            dist = canonicalize_name(todo.pop())
            if dist in out:
                continue
            out[dist] = f"{runtime} ({shown})"
            releases = tables.releases(dist)
            todo += [r.name for r in (tables.requires(dist, releases[-1]) or []) if r.marker is None] if releases else []
    return out
