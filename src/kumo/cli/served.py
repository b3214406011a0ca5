"""The client side of kumo's resident server: run a command in it, or say there is none to use.

A Python process that imports pydantic, typer, httpx and kumo spends ~0.5 s before its first request
(kubectl, a Go binary, ~0.05 s). So, as Bazel's and Gradle's clients do, ``kumo`` hands short
commands (kumo.cli.areas: the served ones) to a resident process that has imported everything once
and forks a child per command (kumo.cli.server). The child gets this process's argv, working
directory, environment, umask and its very stdin/stdout/stderr (passed as file descriptors), so
output, terminals, pipes and exit codes are the ones a cold run would have; signals sent to this
process are forwarded to the child, and the child dies with this process.

A server is found by a fingerprint of everything that decides what the code does (kumo's files,
the interpreter, ``sys.path``, locale variables): edit one file and the next command starts a new
server. Standard library only, and nothing heavy: this module runs before anything else is imported.
"""

from __future__ import annotations

import marshal
import os
import signal
import socket
import stat
import struct
import sys
import zlib
from types import FrameType

from kumo.cli.areas import AREAS, area_of

#: ``KUMO_SERVER=off`` (or 0/false/no) runs every command in its own process, without a server.
SWITCH = "KUMO_SERVER"
#: Seconds a server waits for a command before it exits (``KUMO_SERVER_IDLE`` overrides).
IDLE_SECONDS = 900
#: One frame from the server: a kind byte and a signed 32-bit value.
FRAME = struct.Struct("!ci")
PID, EXIT = b"P", b"X"
#: Signals a user (or CI runner) sends to ``kumo``, which the command in the server must receive.
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGWINCH)
_OFF = ("0", "off", "false", "no")
#: Environment variables read when the server starts or imports (a child's environment is its
#: client's, but what was read then stays): a different value needs another server.
_IMPORT_TIME_VARIABLES = ("LC_ALL", "LC_CTYPE", "LANG", "PYTHONHASHSEED", "TYPER_USE_RICH")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: AF_UNIX paths are at most 107 bytes on Linux.
_MAX_SOCKET_PATH = 107


def enabled(argv: list[str]) -> bool:
    """Whether ``argv`` may run in a server: a served command, servers not switched off, and a
    platform with fork and Unix sockets."""
    if os.environ.get(SWITCH, "").strip().lower() in _OFF:
        return False
    if not hasattr(os, "fork") or not hasattr(socket, "AF_UNIX"):
        return False
    if sys._xoptions or sys.flags.optimize or sys.flags.dev_mode or sys.flags.isolated or sys.flags.no_site:
        return False  # an interpreter run with options a server started with none would not share
    area = area_of(argv)
    return area is not None and AREAS[area].served


def runtime_dir() -> str | None:
    """This user's directory for server sockets, created 0700; None if it is not safely ours."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base:
        path = os.path.join(base, "kumo")
    else:
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"kumo-{os.getuid()}")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return None
    # Another user's directory, a symlink or a group-writable one would let someone else answer.
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return path


def fingerprint() -> str:
    """A digest of what decides the behaviour of the code a server has imported."""
    facts = [sys.executable, sys.version, repr(sys.flags), sys.getfilesystemencoding()]
    facts += [os.environ.get(name, "") for name in _IMPORT_TIME_VARIABLES]
    facts += [f"{entry}\0{_mtime(entry)}" for entry in sys.path]
    for root, dirs, files in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                facts.append(f"{path}\0{_mtime(path)}")
    # Two 32-bit checksums, not hashlib (whose OpenSSL import costs the client ~3 ms): a key to
    # tell one's own code versions apart, not a defence against anyone.
    data = "\0".join(facts).encode()
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def _mtime(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError:
        return "-"
    return f"{info.st_mtime_ns}:{info.st_size}"


def socket_path() -> str | None:
    """Where this kumo's server listens; None when no server may be used."""
    directory = runtime_dir()
    if directory is None:
        return None
    path = os.path.join(directory, f"server-{fingerprint()}.sock")
    return path if len(path.encode()) <= _MAX_SOCKET_PATH else None


def request() -> bytes:
    """What the child needs to stand in for this process, but for its file descriptors."""
    mask = os.umask(0)
    os.umask(mask)
    standard = (sys.stdin, sys.stdout, sys.stderr)
    streams = [(getattr(s, "encoding", None), getattr(s, "errors", None)) for s in standard]
    # marshal, not json: no import (json pulls in re), and the server is this very interpreter.
    return marshal.dumps(
        {
            "argv": list(sys.argv),
            "pid": os.getpid(),
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "umask": mask,
            "streams": streams,
        }
    )


def socket_for(argv: list[str]) -> str | None:
    """Where the server that may run ``argv`` listens (or would); None when ``argv`` may not use one."""
    return socket_path() if enabled(argv) else None


def run(path: str) -> int | None:
    """Run this command line in the server at ``path`` and return its exit code; None when there is
    no server there to use (the caller runs the command itself)."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        body = request()
        socket.send_fds(conn, [struct.pack("!I", len(body))], [0, 1, 2])
        conn.sendall(body)
        kind, child = _frame(conn)
    except (OSError, EOFError):
        conn.close()
        return None  # no server (or a dying one, or one that could not fork): nothing ran yet
    if kind != PID:
        conn.close()
        return None
    return _wait(conn, child)


def _wait(conn: socket.socket, child: int) -> int:
    """Forward signals to the child until it reports its exit code, and return that code. A child
    that dies without one was killed: so is this process, by the same signal if it forwarded one."""
    forwarded: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        forwarded.append(signum)
        _signal(child, signum)

    def suspend(_signum: int, _frame: FrameType | None) -> None:
        # Ctrl-Z: stop the child with this process, as the shell's job control would stop both.
        _signal(child, signal.SIGSTOP)
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)  # stops here until SIGCONT (fg, bg)
        signal.signal(signal.SIGTSTP, suspend)
        _signal(child, signal.SIGCONT)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    signal.signal(signal.SIGTSTP, suspend)
    try:
        kind, value = _frame(conn)
    except (OSError, EOFError):
        kind, value = b"", 0
    finally:
        conn.close()
    if kind == EXIT:
        return value
    if forwarded and forwarded[-1] != signal.SIGWINCH:
        signal.signal(forwarded[-1], signal.SIG_DFL)
        os.kill(os.getpid(), forwarded[-1])
    sys.stderr.write("kumo: the command ended without an exit status (killed?)\n")
    return 1


def _signal(pid: int, signum: int) -> None:
    try:  # not contextlib.suppress: contextlib's import costs this client ~3 ms
        os.kill(pid, signum)
    except ProcessLookupError:
        return


def _frame(conn: socket.socket) -> tuple[bytes, int]:
    kind, value = FRAME.unpack(recv_exactly(conn, FRAME.size))
    return kind, value


def recv_exactly(conn: socket.socket, size: int) -> bytes:
    """``size`` bytes from a stream socket; EOFError if the other side closes first."""
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError("the other side closed the connection")
        data += chunk
    return data


def start_server(path: str) -> None:
    """Start a server at ``path`` in the background, for the next command. Its own session, no
    terminal, no inherited pipes: nothing waits for it, and it exits after IDLE_SECONDS without a
    command."""
    import json
    import subprocess

    # The server imports from this process's sys.path (not the working directory a -m would add).
    boot = (
        "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
        "from kumo.cli.server import main; main(sys.argv[2])"
    )
    try:
        subprocess.Popen(
            [sys.executable, "-c", boot, json.dumps([os.path.abspath(p) for p in sys.path]), path],
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError:
        return  # a server is an optimisation: the command itself already ran
