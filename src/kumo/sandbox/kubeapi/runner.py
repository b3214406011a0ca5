"""Starting the emulator: in the foreground (the CLI), in a background thread (a context manager)
or as a subprocess.

Each instance owns its store, garbage collector and (optionally) controllers; nothing is global,
so tests can run many emulators side by side. The controllers (the simulation of a cluster) are
handed in as a :data:`ControllersFactory`: the emulator defines the protocol and never imports
an implementation; the composition happens where the emulator is started (``kumo sandbox kubeapi``,
test fixtures).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

import uvicorn

from kumo.errors import KumoError
from kumo.sandbox.kubeapi.gc import GarbageCollector
from kumo.sandbox.kubeapi.kubeconfig import write_kubeconfig
from kumo.sandbox.kubeapi.server import KubeApp
from kumo.sandbox.kubeapi.store import Store
from kumo.sandbox.kubeapi.tls import TlsMaterial, make_tls

T = TypeVar("T")


class Controllers(Protocol):
    """Controllers that run beside the API on the emulator's event loop and act through the store,
    as a cluster's controllers act through the API (e.g. :class:`kumo.sandbox.simulate.Simulator`).
    ``start`` runs on the loop before the first request is served; ``stop`` when it shuts down."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


#: builds the controllers of one emulator from its store (whose ``seed`` they may share)
ControllersFactory = Callable[[Store], Controllers]


@dataclass
class EmulatorOptions:
    host: str = "127.0.0.1"
    port: int = 0
    #: the controllers to run (``kumo.sandbox.simulate.simulation(...)``); ``None``: the API alone
    controllers: ControllersFactory | None = None
    seed: int | None = None
    validate: bool = True
    bookmark_interval: float = 5.0
    window: int = 20000
    #: serve HTTPS with a CA made for this run (see :mod:`kumo.sandbox.kubeapi.tls`)
    tls: bool = False


class Emulator:
    """The pieces of one running emulator, built on the loop that serves it."""

    def __init__(self, opts: EmulatorOptions) -> None:
        from kumo.sandbox.kubeapi.validation import SchemaValidator

        self.opts = opts
        self.store = Store(
            seed=opts.seed, window=opts.window, validator=SchemaValidator() if opts.validate else None
        )
        self.gc = GarbageCollector(self.store)
        self.app = KubeApp(self.store, bookmark_interval=opts.bookmark_interval)
        self.simulator: Controllers | None = None
        self.server: uvicorn.Server | None = None
        self.sock: socket.socket | None = None
        self.tls: TlsMaterial | None = None
        self._pki: tempfile.TemporaryDirectory[str] | None = None
        if opts.tls:
            self._pki = tempfile.TemporaryDirectory(prefix="kumo-kubeapi-pki-")
            self.tls = make_tls(Path(self._pki.name), opts.host)

    @property
    def url(self) -> str:
        assert self.sock is not None
        host, port = self.sock.getsockname()[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def write_kubeconfig(self, path: str | os.PathLike[str]) -> Path:
        """A kubeconfig whose admin user and CA fit how this emulator serves (HTTP or TLS)."""
        return write_kubeconfig(path, self.url, tls=self.tls)

    def bind(self) -> None:
        # IPPROTO_TCP explicitly: asyncio only disables Nagle on sockets that say they are TCP
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.opts.host, self.opts.port))
        except OSError as exc:
            sock.close()
            raise KumoError(
                f"cannot listen on {self.opts.host}:{self.opts.port}: {exc.strerror}",
                hint="choose another --port, or 0 for a free one",
            ) from exc
        sock.listen(512)
        self.sock = sock
        self.app.server_address = self.url.split("://", 1)[1]

    async def serve(self, started: Callable[[], None] | None = None) -> None:
        if self.sock is None:
            self.bind()
        if self.opts.controllers is not None:
            self.simulator = self.opts.controllers(self.store)
            self.simulator.start()
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
            # clients keep connections in pools; a short idle timeout races their reuse
            timeout_keep_alive=300,
            ws="none",
            ssl_certfile=str(self.tls.server_cert) if self.tls else None,
            ssl_keyfile=str(self.tls.server_key) if self.tls else None,
            ssl_ca_certs=str(self.tls.ca_file) if self.tls else None,
            ssl_cert_reqs=ssl.CERT_OPTIONAL if self.tls else ssl.CERT_NONE,
        )
        self.server = uvicorn.Server(config)
        task = asyncio.ensure_future(self.server.serve(sockets=[self.sock] if self.sock else None))
        while not self.server.started and not task.done():
            await asyncio.sleep(0.005)
        if started is not None and not task.done():
            started()
        try:
            await task
        finally:
            if self.simulator is not None:
                await self.simulator.stop()
            if self._pki is not None:
                self._pki.cleanup()

    def request_stop(self) -> None:
        self.app.closing()
        if self.server is not None:
            self.server.should_exit = True


class KubeAPI:
    """An emulator in a background thread; use as a context manager.

    >>> with KubeAPI(kubeconfig="/tmp/kc") as api:   # doctest: +SKIP
    ...     subprocess.run(["kubectl", "--kubeconfig", api.kubeconfig, "get", "ns"])
    """

    def __init__(self, *, kubeconfig: str | os.PathLike[str] | None = None, **options: Any) -> None:
        self.opts = EmulatorOptions(**options)
        self._kubeconfig = Path(kubeconfig) if kubeconfig else None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._emu: Emulator | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        assert self._emu is not None, "not started"
        return self._emu.url

    @property
    def kubeconfig(self) -> str:
        assert self._kubeconfig is not None, "not started"
        return str(self._kubeconfig)

    @property
    def store(self) -> Store:
        assert self._emu is not None
        return self._emu.store

    @property
    def requests_received(self) -> int:
        """HTTP requests the emulator has received so far, watches included."""
        assert self._emu is not None
        return self._emu.app.requests_received

    @property
    def simulator(self) -> Any:
        """The running controllers the options named (a :class:`kumo.sandbox.simulate.Simulator`),
        ``None`` without. Set ``api.call(lambda: setattr(api.simulator, "enabled", False))`` to pause
        a Simulator."""
        assert self._emu is not None
        return self._emu.simulator

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the emulator's loop (the store is not thread-safe) and return its result."""
        assert self._loop is not None

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def start(self) -> KubeAPI:
        ready = threading.Event()
        self._emu = Emulator(self.opts)
        self._emu.bind()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                assert self._emu is not None
                loop.run_until_complete(self._emu.serve(ready.set))
            except BaseException as exc:
                self._error = exc
            finally:
                ready.set()
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=main, name="kumo-kubeapi", daemon=True)
        self._thread.start()
        ready.wait(30)
        if self._error is not None:
            raise KumoError(f"the Kubernetes API emulator failed to start: {self._error}")
        if self._kubeconfig is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="kumo-kubeapi-")
            self._kubeconfig = Path(self._tmpdir.name) / "kubeconfig"
        self._emu.write_kubeconfig(self._kubeconfig)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._emu is not None and self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._emu.request_stop)
            self._thread.join(10)
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> KubeAPI:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# ``kumo`` run by this interpreter, so a child runs the same sources (PYTHONPATH too)
_KUMO = [sys.executable, "-c", "import sys; sys.argv[0] = 'kumo'; from kumo.cli import main; main()"]


class KubeAPIProcess:
    """An emulator in a child process (``kumo sandbox kubeapi``, with its simulation unless
    ``simulate=False``); use as a context manager."""

    def __init__(
        self,
        *,
        kubeconfig: str | os.PathLike[str],
        simulate: bool = True,
        seed: int | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self._kubeconfig = Path(kubeconfig)
        self._args = ["--port", "0", "--kubeconfig", str(self._kubeconfig)]
        if not simulate:
            self._args.append("--no-simulate")
        if seed is not None:
            self._args += ["--seed", str(seed)]
        self._args += extra_args or []
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    @property
    def kubeconfig(self) -> str:
        return str(self._kubeconfig)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> KubeAPIProcess:
        self._proc = subprocess.Popen(
            [*_KUMO, "sandbox", "kubeapi", *self._args, "--output", "json"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait(10)
            raise KumoError(f"the Kubernetes API emulator process exited with {code} before it was ready")
        self.url = json.loads(line)["url"]
        return self

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)

    def __enter__(self) -> KubeAPIProcess:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
