"""Child processes that outlive the command that started them: PID files, identity, ports, stop.

A PID alone is not an identity: after a reboot or a long run the number may belong to another
program. Each PID file therefore also records the process's start time (field 22 of
``/proc/PID/stat``, in clock ticks since boot); a process is "ours" only when both match. A PID
file whose process is gone or is someone else is stale and removed, never acted on.

Each child runs in its own session, so stopping it signals its whole process group (it and anything
it spawned) and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kumo.errors import KumoError


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot; None when no such live process exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces; fields after it are plain
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):  # a zombie has exited; only its parent has not reaped it yet
        return None
    return int(fields[19])


@dataclass(frozen=True)
class ProcessRecord:
    """What a PID file holds."""

    name: str
    pid: int
    ticks: int
    argv: tuple[str, ...]

    def alive(self) -> bool:
        return start_ticks(self.pid) == self.ticks


class PidFile:
    def __init__(self, directory: Path, name: str) -> None:
        self.name = name
        self.path = directory / f"{name}.pid"

    def read(self) -> ProcessRecord | None:
        try:
            data = json.loads(self.path.read_text())
            return ProcessRecord(self.name, int(data["pid"]), int(data["ticks"]), tuple(data["argv"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def live(self) -> ProcessRecord | None:
        """Our process if it still runs; a stale file (process gone, or PID reused) is removed."""
        record = self.read()
        if record is None:
            return None
        if record.alive():
            return record
        self.path.unlink(missing_ok=True)
        return None

    def write(self, record: ProcessRecord) -> None:
        tmp = self.path.with_suffix(".pid.tmp")
        tmp.write_text(json.dumps({"pid": record.pid, "ticks": record.ticks, "argv": list(record.argv)}))
        tmp.replace(self.path)


def spawn(
    directory: Path, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None
) -> ProcessRecord:
    """Start ``argv`` detached (own session, output to ``NAME.log``) and record it in ``NAME.pid``."""
    log = open(directory / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child, closed below
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as exc:
        raise KumoError(f"cannot start the sandbox's {name}: {exc}") from exc
    finally:
        log.close()
    ticks = start_ticks(proc.pid)
    record = ProcessRecord(name, proc.pid, ticks if ticks is not None else -1, tuple(argv))
    PidFile(directory, name).write(record)
    return record


def _reap(pid: int) -> None:
    # a child of this very process (started by an earlier step of the same command) must be waited
    # for, or it stays a zombie; for anyone else's child this is a no-op
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop(record: ProcessRecord, timeout: float = 5.0) -> None:
    """Stop one process; see :func:`stop_all`."""
    stop_all([record], timeout)


def stop_all(records: list[ProcessRecord], timeout: float = 5.0) -> None:
    """SIGTERM each process group at once, SIGKILL what is left after ``timeout``; each only while
    the process is still ours (same PID and start time)."""
    live = [r for r in records if r.alive()]
    for record in live:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while live and time.monotonic() < deadline:
        for record in live:
            _reap(record.pid)
        live = [r for r in live if r.alive()]
        if live:
            time.sleep(0.05)
    for record in live:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pid, signal.SIGKILL)
    for _ in range(250):  # a killed process is gone within moments, longer on a busy machine
        for record in live:
            _reap(record.pid)
        live = [r for r in live if r.alive()]
        if not live:
            break
        time.sleep(0.02)
    # anything a child left in its group (it never should) goes too
    for record in records:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pid, signal.SIGKILL)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when both TCP and UDP can bind ``port`` (the DNS server needs both)."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            if kind == socket.SOCK_STREAM:
                # as the servers do: connections of a previous run in TIME_WAIT do not block the port
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def pick_port(preferred: int | None = None, host: str = "127.0.0.1") -> int:
    """``preferred`` when free (a restart keeps its addresses), else a free port for TCP and UDP."""
    if preferred and port_free(preferred, host):
        return preferred
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port_free(port, host):
            return port
    raise KumoError("no free port on 127.0.0.1 for the sandbox")


def log_tail(directory: Path, name: str, lines: int = 15) -> str:
    try:
        text = (directory / f"{name}.log").read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])
