"""A Redis server of our own, for tests that stop, pause or password-protect Redis.

The machine's Redis (127.0.0.1:6379, no password) serves every other test and
must keep running, so a test that takes Redis away, freezes it (``SIGSTOP``),
needs a password or TLS starts ``redis-server`` on a free port in a temporary
folder, with nothing saved to disk, and removes it afterwards. ``stop()`` and
``start()`` keep the port, so clients configured with :attr:`url` reconnect to
the same address.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (the certificate is its own CA)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "redis.crt", folder / "redis.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class ThrowawayRedis:
    """One ``redis-server`` in a temporary folder; ``stop()``, ``start()``, ``pause()``, ``resume()`` at will."""

    def __init__(self, password: str | None = None, tls: bool = False) -> None:
        """Start the server (optionally with ``requirepass`` and TLS only); skip the test without redis-server."""
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self._binary = binary
        self.password = password
        self.tls = tls
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="clinic-redis-"))
        self.log = self.folder / "server.log"
        self._tls_files = _self_signed(self.folder) if tls else None
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        """``redis://`` (or ``rediss://`` with the CA file) URL of database 0, password included."""
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        if self._tls_files is None:
            return f"redis://{auth}127.0.0.1:{self.port}/0"
        return f"rediss://{auth}127.0.0.1:{self.port}/0?ssl_ca_certs={quote(str(self._tls_files[0]))}"

    def _command(self) -> list[str]:
        """The ``redis-server`` command line: loopback only, nothing saved."""
        command = [self._binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.folder), "--logfile", str(self.log)]
        if self._tls_files is None:
            command += ["--port", str(self.port)]
        else:
            cert, key = self._tls_files
            command += ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(cert)]
            command += ["--tls-key-file", str(key), "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"]
        if self.password:
            command += ["--requirepass", self.password]
        return command

    def start(self, timeout: float = 15) -> None:
        """Start the server on its port and wait until it answers PING."""
        self.process = subprocess.Popen(
            self._command(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self._log_tail()}")
            if self.answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer in time:\n{self._log_tail()}")

    def answers(self) -> bool:
        """Whether the server answers PING right now."""
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1).ping())
        except (redis.RedisError, OSError):
            return False

    def stop(self) -> None:
        """Stop the server (its data goes: nothing is saved)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGCONT)  # a paused server must run to stop
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def pause(self) -> None:
        """Freeze the server (``SIGSTOP``): connections open, nothing is answered."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server run again (``SIGCONT``)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _log_tail(self) -> str:
        """The end of the server's log, for error messages."""
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else "(no log)"
