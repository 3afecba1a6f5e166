"""The throwaway server's certificates pass the checks a client makes of a platform's: Python 3.13 verifies
X.509 strictly by default (a CA without key usage fails with CERTIFICATE_VERIFY_FAILED), so a backend on 3.13
that verifies the server's certificate must be able to trust the throwaway CA as it trusts a public one."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

from fixer.verify.postgres import certificates


def test_a_strict_client_trusts_the_throwaway_servers_certificate(tmp_path: Path) -> None:
    options, ca_file = certificates(tmp_path, {})
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    assert f"ssl_cert_file={tmp_path / 'server.crt'}" in options
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        try:
            with server.wrap_socket(connection, server_side=True) as tls:
                tls.sendall(b"ok")
        except (OSError, ssl.SSLError):  # the client's refusal is what the test reads, on its side
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ssl.create_default_context(cafile=str(ca_file))
    client.verify_flags |= ssl.VERIFY_X509_STRICT  # Python 3.13's default
    with socket.create_connection(listener.getsockname()) as raw:
        with client.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.recv(2) == b"ok"
    thread.join(timeout=10)
    listener.close()
