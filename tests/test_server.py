"""`fixer server`: the language server, spoken to over stdio as an editor does (JSON-RPC with Content-Length)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed" / "broken" / "backend"


class Client:
    def __init__(self, cwd: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "fixer", "server"], cwd=cwd, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.next_id = 0

    def send(self, method: str, params: dict, request: bool = False) -> int | None:
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        data = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.process.stdin.flush()
        return message.get("id")

    def receive(self) -> dict:
        length = 0
        while (line := self.process.stdout.readline().strip()):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        assert length, self.process.stderr.read().decode()
        return json.loads(self.process.stdout.read(length))

    def wait_for(self, test) -> dict:
        while True:
            message = self.receive()
            if test(message):
                return message


def _applied(text: str, edits: list[dict]) -> str:
    """The text with the LSP edits made (ASCII text: characters are code units)."""
    lines = text.splitlines(keepends=True)

    def offset(position: dict) -> int:
        return sum(map(len, lines[: position["line"]])) + position["character"]

    for edit in sorted(edits, key=lambda e: offset(e["range"]["start"]), reverse=True):
        text = text[: offset(edit["range"]["start"])] + edit["newText"] + text[offset(edit["range"]["end"]):]
    return text


def test_diagnostics_and_code_actions_with_their_safety(tmp_path: Path) -> None:
    backend = Path(shutil.copytree(SEED, tmp_path / "backend"))
    database = backend / "src" / "core" / "database.py"
    uri = database.as_uri()
    client = Client(backend)
    try:
        started = client.send("initialize", {"processId": None, "rootUri": backend.as_uri(), "capabilities": {}}, True)
        init = client.wait_for(lambda m: m.get("id") == started)
        assert init["result"]["capabilities"]["codeActionProvider"]
        client.send("initialized", {})
        client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                              "text": database.read_text()}})
        published = client.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics")["params"]
        assert published["uri"] == uri
        by_code = {}
        for diagnostic in published["diagnostics"]:
            by_code.setdefault(diagnostic["code"], []).append(diagnostic)
        assert {"FX002", "FX003", "FX004"} <= set(by_code)
        assert all(d["source"] == "fixer" for d in published["diagnostics"])
        fx003 = by_code["FX003"][0]
        assert fx003["message"].endswith("(unsafe fix)") and by_code["FX002"][0]["message"].endswith("(safe fix)")

        asked = client.send("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": fx003["range"],
                                                        "context": {"diagnostics": [fx003]}}, True)
        actions = client.wait_for(lambda m: m.get("id") == asked)["result"]
        unsafe = next(a for a in actions if a["title"] == "fixer: fix FX003 (unsafe fix)")
        assert unsafe["kind"] == "quickfix" and not unsafe.get("isPreferred")
        (edits,) = unsafe["edit"]["changes"].values()
        assert "async_sessionmaker(" in _applied(database.read_text(), edits)
        # The editor's text, not the file on disk, is what is checked: a fixed buffer has nothing left for FX002.
        fixed = database.read_text().replace("from sqlalchemy import AsyncEngine", "from sqlalchemy.ext.asyncio import AsyncEngine")
        client.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                               "contentChanges": [{"text": fixed}]})
        again = client.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics")["params"]
        assert len([d for d in again["diagnostics"] if d["code"] == "FX002"]) < len(by_code["FX002"])
        client.send("shutdown", {}, True)
        client.send("exit", {})
    finally:
        client.process.stdin.close()
        client.process.wait(timeout=30)
