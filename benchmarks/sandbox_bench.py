"""Cold start of the sandbox to the seed example's name answering, as a breakdown by phase.

    .venv/bin/python benchmarks/sandbox_bench.py [--runs 3] [--spec examples/online-app/kumo.yaml]

Each run starts from nothing (a fresh sandbox directory; set-up of the machine excluded) and runs
what ``scripts/demo.sh`` runs, through the real commands:

- ``processes``: ``kumo sandbox up --spec SPEC`` until the emulator and moto answer (the other
  processes start alongside);
- ``prepare``: the rest of it: moto seeded, Nodes bound, the DNS controller and every process up;
- then ``kumo up SPEC --sandbox``, split at its progress lines: ``cloud`` (the cloud step against
  moto), ``addons`` (the DNS controller add-on applied), ``app`` (applied and rolled out),
  ``dns`` (until the name answers through the sandbox's DNS server);
- ``total``: from nothing to the name answering;
- ``cpu``: CPU seconds the sandbox's processes and the commands used (load does not inflate it).

Prints one JSON object: each run's phases in seconds, and the median of each phase.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KUMO = [sys.executable, "-c", "import sys; sys.argv[0] = 'kumo'; from kumo.cli import main; main()"]
# progress lines of `kumo sandbox up --spec` that end a phase (the last phase ends at its exit)
SANDBOX_MARKS = [("processes", "» the cluster answers"), ("prepare", "")]
# progress lines of `kumo up` that end a phase, in order (the first one that matches a prefix wins)
MARKS = [
    ("cloud", "» installing add-ons"),
    ("addons", "» applying revision"),
    ("app", "» waiting for "),
    ("dns", ""),
]


def _stream(
    args: list[str], env: dict[str, str], marks: list[tuple[str, str]], output: list[str]
) -> Iterator[str]:
    """Run ``kumo ARGS``; yield each phase as its closing line appears (the last one at exit)."""
    proc = subprocess.Popen(
        [*KUMO, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    pending = list(marks)
    for line in proc.stdout:
        output.append(line)
        if len(pending) > 1 and line.strip().startswith(pending[0][1]):
            yield pending.pop(0)[0]
    if proc.wait() != 0:
        raise SystemExit(f"kumo {' '.join(args)} failed:\n" + "".join(output))
    yield pending[-1][0]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _sandbox_cpu(directory: Path) -> float:
    """utime + stime of the sandbox's processes (they are not our children: they outlive `up`)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pidfile in directory.glob("*.pid"):
        pid = json.loads(pidfile.read_text())["pid"]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def one_run(spec: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="kumo-sandbox-bench-") as tmp:
        env = {**os.environ, "KUMO_SANDBOX_DIR": str(Path(tmp) / "sandbox"), "COLUMNS": "200"}
        phases: dict[str, float] = {}
        cpu_before = _children_cpu()
        start = time.monotonic()
        try:
            mark = start
            output: list[str] = []
            for command, marks in (
                (["sandbox", "up", "--spec", spec], SANDBOX_MARKS),
                (["up", spec, "--sandbox"], MARKS),
            ):
                for phase in _stream(command, env, marks, output):
                    now = time.monotonic()
                    phases[phase] = now - mark
                    mark = now
            if not any("resolves to" in line for line in output):
                raise SystemExit("the name did not answer:\n" + "".join(output))
            phases["total"] = time.monotonic() - start
            # CPU seconds spent (the sandbox's processes and every command), which the machine's
            # load does not inflate: on an idle 2-core machine the total is at least half of it
            phases["cpu"] = _sandbox_cpu(Path(env["KUMO_SANDBOX_DIR"])) + _children_cpu() - cpu_before
        finally:
            subprocess.run([*KUMO, "sandbox", "down", "--purge"], env=env, capture_output=True)
        return {k: round(v, 3) for k, v in phases.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--spec", default=str(ROOT / "examples/online-app/kumo.yaml"))
    args = ap.parse_args()
    runs = [one_run(args.spec) for _ in range(args.runs)]
    names = [
        name
        for name in ("processes", "prepare", "cloud", "addons", "app", "dns", "total", "cpu")
        if name in runs[0]
    ]
    median = {name: round(statistics.median(r[name] for r in runs if name in r), 3) for name in names}
    load = os.getloadavg()
    print(
        json.dumps(
            {
                "benchmark": "sandbox cold start to the name answering",
                "spec": args.spec,
                "cpus": os.cpu_count(),
                "loadavg_1m_at_end": round(load[0], 2),
                "runs": runs,
                "median_seconds": median,
                "aim_total_seconds": 15,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
