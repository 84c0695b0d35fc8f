"""Fixtures for the fault matrix: servers that fail in ways the emulator cannot (a bad TLS
certificate, a listener that never accepts), and quick access to the history database."""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.support import CannedAPI, TLSServer

MODELS_BODY = json.dumps({"object": "list", "data": [{"id": "kimi-k2.6"}]}).encode()
#: What ``canned_api`` lists: one model with the metadata the live list gives.
CANNED_MODEL = {
    "id": "kimi-k2.6",
    "object": "model",
    "context_length": 262144,
    "supports_reasoning": True,
    "supports_thinking_type": "both",
}


def _self_signed_with_cryptography(cert: Path, key: Path) -> bool:
    try:
        import datetime
        import ipaddress

        from cryptography import x509  # type: ignore[import-not-found, unused-ignore]
        from cryptography.hazmat.primitives import (  # type: ignore[import-not-found, unused-ignore]
            hashes,
            serialization,
        )
        from cryptography.hazmat.primitives.asymmetric import (  # type: ignore[import-not-found, unused-ignore]
            ec,
        )
        from cryptography.x509.oid import NameOID  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return False
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return True


def _self_signed_with_openssl(cert: Path, key: Path) -> bool:
    openssl = shutil.which("openssl")
    if openssl is None:
        return False
    request = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    where = ["-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1"]
    name = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    proc = subprocess.run(
        [openssl, *request, *where, *name],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return proc.returncode == 0 and cert.exists()


class _ModelsHandler(http.server.BaseHTTPRequestHandler):
    """Just enough of the API to prove a trusted certificate works: ``GET /v1/models``."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(MODELS_BODY)))
        self.end_headers()
        self.wfile.write(MODELS_BODY)

    def log_message(self, format: str, *args: object) -> None:
        return None


class _QuietHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return None  # a client refusing our certificate is the point of the test


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TLSServer]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate made for this test."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    if not (_self_signed_with_cryptography(cert, key) or _self_signed_with_openssl(cert, key)):
        pytest.skip("neither the cryptography package nor the openssl CLI can make a certificate")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _QuietHTTPServer(("127.0.0.1", 0), _ModelsHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield TLSServer(f"https://127.0.0.1:{server.server_address[1]}/v1", cert)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def never_accepts() -> Iterator[str]:
    """A base URL on 127.0.0.1 where a TCP connect hangs: a listener with backlog 0 that
    never accepts, its one queue slot already taken, so further SYNs go unanswered."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        for _ in range(8):  # the queue holds backlog + 1 (or so): fill it, then stop
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.settimeout(0.3)
            fillers.append(filler)
            try:
                filler.connect(("127.0.0.1", port))
            except (TimeoutError, OSError):
                break
        else:
            pytest.skip("the kernel accepted every connection into the backlog")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        for filler in fillers:
            filler.close()
        server.close()


@pytest.fixture
def history_db(isolated_env: Path) -> Path:
    return isolated_env / "data" / "history.db"


@pytest.fixture
def canned_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[CannedAPI]:
    """A plain HTTP API on 127.0.0.1 that answers what the test queued (``CannedAPI``);
    ``KIMI_BASE_URL``, ``KIMI_API_KEY`` and ``KIMI_MODEL`` (kimi-k2.6) point kimi at it."""
    listing = json.dumps({"object": "list", "data": [CANNED_MODEL]}).encode()
    canned = CannedAPI("", [], [])

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._send(200, {"Content-Type": "application/json"}, listing)

        def do_POST(self) -> None:
            canned.posts.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            answers = canned.answers
            status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
            self._send(status, headers, body)

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = _QuietHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    canned.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    monkeypatch.setenv("KIMI_BASE_URL", canned.base_url)
    monkeypatch.setenv("KIMI_API_KEY", "sk-emulator")
    monkeypatch.setenv("KIMI_MODEL", "kimi-k2.6")
    try:
        yield canned
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
