"""Compose files read with a YAML parser (ruamel.yaml, round-trip mode: it keeps every node's line and column),
so that which lines are a service's environment follows YAML's structure, not indentation guessed by regexes.

Edits stay byte-exact line edits made by the rules (a dump would re-indent, re-quote and re-wrap the file):
this module only says where the values are.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_UPPER_KEY = re.compile(r"[A-Z_][A-Z0-9_]*")


class NotYaml(ValueError):
    """The text is not YAML the parser can read (docker compose would refuse it too)."""


@functools.lru_cache(maxsize=16)
def load(text: str) -> Any:
    """The document, as ruamel.yaml's round-trip loader gives it (maps with `.lc` line/column data). Kept for
    the same text (callers only read it): the start points and the URL rules read each compose file, and
    ruamel's pure-Python loader costs as much as parsing a Python module of the same size."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True  # compose keeps the last one; a finding is no place to refuse the file
    try:
        return yaml.load(text)
    except (YAMLError, ValueError) as error:
        raise NotYaml(str(error).splitlines()[0] if str(error) else type(error).__name__) from None


def environment_lines(text: str) -> set[int]:
    """0-based lines that hold an environment entry (`KEY: value` or `- KEY=value`) of a service that runs the
    project's code, or an UPPER_CASE key of a top-level `x-...` block (shared by services through anchors).
    A service that runs someone else's image (`image:` and no `build:`: Hasura, a Node service, a migration
    tool) is left out: its URLs belong to a program that wants libpq's form."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    found: set[int] = set()

    def entries(environment: Any) -> None:
        if isinstance(environment, (CommentedMap, CommentedSeq)):
            found.update(position[0] for position in environment.lc.data.values())

    def walk(node: Any, extension: bool, third_party: bool) -> None:
        if isinstance(node, CommentedMap):
            for key, position in node.lc.data.items():
                value = node[key]
                if key == "environment" and not third_party:
                    entries(value)
                    continue
                if extension and isinstance(key, str) and _UPPER_KEY.fullmatch(key):
                    found.add(position[0])
                walk(value, extension, third_party)
        elif isinstance(node, CommentedSeq):
            for item in node:
                walk(item, extension, third_party)

    document = load(text)
    if not isinstance(document, CommentedMap):
        return found
    for key in document.lc.data:
        value = document[key]
        if key == "services" and isinstance(value, CommentedMap):
            for service in value.lc.data:
                body = value[service]
                own = set(body.lc.data) if isinstance(body, CommentedMap) else set()
                walk(body, False, "image" in own and "build" not in own)
        else:
            walk(value, isinstance(key, str) and key.startswith("x-"), False)
    return found


def network_hosts(text: str) -> dict[str, str]:
    """The names other containers reach each service by on the compose network (the service's key, its
    `hostname:`, `container_name:` and network `aliases:`), each with the service it names. Docker's resolver
    answers them inside that network only: a platform's DNS knows none of them."""
    from ruamel.yaml.comments import CommentedMap

    document = load(text)
    services = document.get("services") if isinstance(document, CommentedMap) else None
    if not isinstance(services, CommentedMap):
        return {}
    hosts: dict[str, str] = {}
    for service, body in services.items():
        if not isinstance(service, str):
            continue
        names = [service]
        if isinstance(body, CommentedMap):
            names += [body.get(key) for key in ("hostname", "container_name")]
            networks = body.get("networks")
            for network in networks.values() if isinstance(networks, CommentedMap) else ():
                aliases = network.get("aliases") if isinstance(network, CommentedMap) else None
                names += list(aliases) if isinstance(aliases, list) else []
        for name in names:
            if isinstance(name, str) and name:
                hosts.setdefault(name, service)
    return hosts
