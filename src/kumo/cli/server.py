"""kumo's resident server: import everything once, then fork a child per command.

Started in the background by the first cold run of a served command (kumo.cli.served), one per
fingerprint of the code, listening on a Unix socket in the user's 0700 runtime directory and
answering only its own user (SO_PEERCRED). Each connection carries a client's argv, working
directory, environment, umask and its stdin/stdout/stderr file descriptors; the forked child takes
them over, runs kumo's normal entry point, reports its exit code and exits. The server itself runs
no command code, holds no event loop or thread (a fork copies only the calling thread) and exits
after kumo.cli.served.IDLE_SECONDS without a command, on SIGTERM (``kumo server stop``), or when its
socket is removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib
import io
import json
import marshal
import os
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback
from typing import Any

from kumo.cli.areas import AREAS
from kumo.cli.served import EXIT, FRAME, IDLE_SECONDS, PID, recv_exactly

#: Modules the served commands import on their way (beyond their command modules), loaded once
#: here: what `up`, `diff`, `status`, `history` and `plan` added to sys.modules when run in a child.
#: None of them reads the environment when imported (a child's environment is its client's).
PRELOAD = (
    "kumo.cli.progress",
    "kumo.cli.plan_view",
    "kumo.deploy",
    "kumo.deploy.live",
    "kumo.deploy.diff",
    "kumo.plan",
    "kumo.spec",
    "kumo.render",
    "kumo.kube",
    # Loaded by the HTTP client on its first connection, and by the name checks of `kumo status`.
    "httpcore2",
    "anyio._backends._asyncio",
    "anyio.streams.tls",
    "dns.asyncresolver",
    "rich.console",
    "rich.tree",
    "pickle",
    "pwd",
    "pydantic.type_adapter",
)
#: A spec the server loads and renders once (no cluster involved), so that each child finds the
#: parsers, validators and renderers past their first call.
WARM_SPEC = """\
app: warm
target: {cloud: generic}
dns: {zone: warm.example, provider: local}
services:
  - name: web
    image: nginx:1.27
    port: 80
    endpoint:
      hostname: web.warm.example
      expose: loadbalancer
      tls: "off"
      ports: [{port: 80, protocol: http}]
"""
#: How long a connected client may take to send its request.
REQUEST_TIMEOUT = 5.0
#: How often an idle server checks that its socket is still its own.
TICK = 30.0


def main(path: str) -> None:
    """Serve on ``path`` until idle; exit at once when another server already holds it."""
    lock = _lock(path)
    if lock is None:
        return
    facts: dict[str, Any] = {"pid": os.getpid(), "started": time.time(), "socket": path, "commands": 0}
    _write(lock, facts)
    preload()
    listener = _listen(path)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    idle = float(os.environ.get("KUMO_SERVER_IDLE", IDLE_SECONDS))
    identity = os.stat(path).st_ino
    last = time.monotonic()
    try:
        while True:
            listener.settimeout(min(TICK, idle))
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                if time.monotonic() - last >= idle or not _still_ours(path, identity):
                    return
                continue
            last = time.monotonic()
            _handle(listener, conn)
            facts["commands"] += 1
            _write(lock, facts)
    except SystemExit:
        pass
    finally:
        if _still_ours(path, identity):
            with contextlib.suppress(OSError):
                os.unlink(path)
                os.unlink(path + ".lock")
        listener.close()
        lock.close()


def _stop(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _lock(path: str) -> Any:
    """Hold ``path``.lock, or None if another server does."""
    handle = open(path + ".lock", "a+")  # noqa: SIM115 - held for the server's life
    if not _try_lock(handle):
        handle.close()
        return None
    return handle


def _try_lock(handle: Any) -> bool:
    """Take a lock file's lock without waiting; False while a server holds it."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _write(lock: Any, facts: dict[str, Any]) -> None:
    """Rewrite the lock file's facts: what ``kumo server status`` shows."""
    lock.seek(0)
    lock.truncate()
    lock.write(json.dumps(facts))
    lock.flush()


def preload() -> None:
    """Import what served commands use and run their first calls, then freeze the heap so that
    children share its pages."""
    from kumo.cli.app import build_app

    app = build_app([name for name, area in AREAS.items() if area.served])
    for module in PRELOAD:
        with contextlib.suppress(ImportError):  # an optional library: the child imports it, or not
            importlib.import_module(module)
    with contextlib.suppress(Exception):  # warming is an optimisation: a child does it on its own
        warm(app)
    gc.collect()
    gc.freeze()


def warm(app: Any) -> None:
    """What the first served command would do before its first request: parse and render a spec,
    run a command through ``app``, the served commands' Typer app (`kumo schema`, output
    discarded), print through Rich, pick dnspython's asyncio backend; each loads modules and fills
    caches on its first call."""
    import dns.asyncbackend
    from rich.console import Console

    from kumo.deploy import load_release

    with tempfile.TemporaryDirectory(prefix="kumo-warm-") as directory:
        path = os.path.join(directory, "kumo.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(WARM_SPEC)
        load_release(path, None)
    with contextlib.redirect_stdout(io.StringIO()):
        app(args=["schema"], standalone_mode=False)
    Console(file=io.StringIO()).print(":white_check_mark: warm")
    dns.asyncbackend.get_backend("asyncio")


def _listen(path: str) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # a dead server's socket; the lock says none is alive
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old)
    listener.listen(64)
    return listener


def _still_ours(path: str, identity: int) -> bool:
    try:
        return os.stat(path).st_ino == identity
    except OSError:
        return False


def _handle(listener: socket.socket, conn: socket.socket) -> None:
    """Read one request and fork its child; the server keeps nothing of it."""
    fds: list[int] = []
    try:
        if not _same_user(conn):
            return
        conn.settimeout(REQUEST_TIMEOUT)
        head, fds, _flags, _addr = socket.recv_fds(conn, 4, 3)
        head += recv_exactly(conn, 4 - len(head))
        (size,) = struct.unpack("!I", head)
        request = marshal.loads(recv_exactly(conn, size))
        if len(fds) != 3:
            return
        if os.fork() == 0:
            _child(listener, conn, request, fds)  # never returns
    except (OSError, ValueError, EOFError):
        pass  # a client that went away or spoke nonsense: it runs the command itself
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        conn.close()


def _same_user(conn: socket.socket) -> bool:
    if not hasattr(socket, "SO_PEERCRED"):
        return True  # the socket's 0700 directory is the only gate there
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return bool(uid == os.getuid())


def _child(listener: socket.socket, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    """Become the client's command: its descriptors, directory, environment and argv; then run
    kumo's entry point and report how it exited."""
    code = 1
    try:
        listener.close()
        for signum in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGQUIT, signal.SIGWINCH):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _adopt(request, fds)
        conn.settimeout(None)
        conn.sendall(FRAME.pack(PID, os.getpid()))
        threading.Thread(target=_die_with_client, args=(conn,), daemon=True).start()
        code = _run()
        conn.sendall(FRAME.pack(EXIT, code))
    except BaseException:  # a child must never return into the server's loop
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        os._exit(code)


def _adopt(request: dict[str, Any], fds: list[int]) -> None:
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(int(request["umask"]))
    sys.argv = list(request["argv"])
    from kumo.kube import show_pid

    show_pid(int(request["pid"]))  # lock holders name the process the user started
    (in_enc, in_err), (out_enc, out_err), (err_enc, err_err) = request["streams"]
    # As the interpreter sets them up: stdout line-buffered on a terminal, stderr always.
    streams = {
        "stdin": open(0, encoding=in_enc, errors=in_err, closefd=False),  # noqa: SIM115
        "stdout": open(  # noqa: SIM115
            1, "w", encoding=out_enc, errors=out_err, closefd=False, buffering=1 if os.isatty(1) else -1
        ),
        "stderr": open(  # noqa: SIM115
            2, "w", encoding=err_enc, errors=err_err or "backslashreplace", closefd=False, buffering=1
        ),
    }
    for name, stream in streams.items():
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)  # what faulthandler and some libraries write to


def _run() -> int:
    from kumo.cli.app import main as run_command

    code: object = 1
    try:
        run_command()
        code = 0
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # as the interpreter would: the traceback, then status 1
        traceback.print_exc()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")  # sys.exit("message"), as the interpreter prints it
    sys.stderr.flush()
    return 1


def _die_with_client(conn: socket.socket) -> None:
    """The client sends nothing after its request: end of stream means it is gone (killed, or its
    terminal closed), and a command without its caller must not go on changing a cluster."""
    with contextlib.suppress(OSError):
        while conn.recv(1):
            pass
    os.kill(os.getpid(), signal.SIGKILL)


def running(directory: str) -> list[dict[str, Any]]:
    """The live servers in ``directory``: pid, start time, socket; a lock nobody holds is a dead
    server's and is removed."""
    found = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".sock.lock"):
            continue
        path = os.path.join(directory, name)
        try:
            handle = open(path)  # noqa: SIM115 - closed below, after the unlink that needs the lock
        except FileNotFoundError:
            continue  # its server just exited
        with handle:
            if not _try_lock(handle):
                with contextlib.suppress(ValueError):
                    found.append(json.loads(handle.read()))
                continue
            with contextlib.suppress(OSError):
                os.unlink(path)
    return found


def stop(server: dict[str, Any], timeout: float = 5.0) -> bool:
    """SIGTERM a server and wait until it has let go of its lock."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(int(server["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Opened without creating it: an exiting server removes its lock file.
            with open(str(server["socket"]) + ".lock") as handle:
                if _try_lock(handle):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


if __name__ == "__main__":
    main(sys.argv[1])
