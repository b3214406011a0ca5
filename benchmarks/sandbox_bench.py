"""Cold start of the sandbox to the seed example's name answering, as a breakdown by phase.

    .venv/bin/python benchmarks/sandbox_bench.py [--runs 3] [--spec examples/online-app/kumo.yaml]

Each run starts from nothing (a fresh sandbox directory; set-up of the machine excluded) and runs
what ``scripts/demo.sh`` runs, through the real commands:

- ``processes``: ``kumo sandbox up`` without a spec, until every process answers;
- ``prepare``: ``kumo sandbox up --spec`` again (moto seeded, Nodes bound, DNS controller running);
- then ``kumo up SPEC --sandbox``, split at its progress lines: ``cloud`` (the cloud step against
  moto), ``addons`` (the DNS controller add-on applied), ``app`` (applied and rolled out),
  ``dns`` (until the name answers through the sandbox's DNS server);
- ``total``: from nothing to the name answering.

Prints one JSON object: each run's phases in seconds, and the median of each phase.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KUMO = [sys.executable, "-c", "import sys; sys.argv[0] = 'kumo'; from kumo.cli import main; main()"]
# progress lines of `kumo up` that end a phase, in order (the first one that matches a prefix wins)
MARKS = [
    ("cloud", "» installing add-ons"),
    ("addons", "» applying revision"),
    ("app", "» waiting for "),
    ("dns", "✓ "),
]


def kumo(*args: str, env: dict[str, str]) -> None:
    subprocess.run([*KUMO, *args], env=env, check=True, capture_output=True, text=True)


def one_run(spec: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="kumo-sandbox-bench-") as tmp:
        env = {**os.environ, "KUMO_SANDBOX_DIR": str(Path(tmp) / "sandbox"), "COLUMNS": "200"}
        phases: dict[str, float] = {}
        start = time.monotonic()
        try:
            kumo("sandbox", "up", env=env)
            phases["processes"] = time.monotonic() - start
            mark = time.monotonic()
            kumo("sandbox", "up", "--spec", spec, env=env)
            phases["prepare"] = time.monotonic() - mark
            mark = time.monotonic()
            proc = subprocess.Popen(
                [*KUMO, "up", spec, "--sandbox"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert proc.stdout is not None
            pending = list(MARKS)
            output = []
            for line in proc.stdout:
                output.append(line)
                text = line.strip()
                if pending and text.startswith(pending[0][1]):
                    now = time.monotonic()
                    phases[pending[0][0]] = now - mark
                    mark = now
                    pending.pop(0)
            if proc.wait() != 0:
                raise SystemExit("kumo up failed:\n" + "".join(output))
            if not any("resolves to" in line for line in output):
                raise SystemExit("the name did not answer:\n" + "".join(output))
            phases["total"] = time.monotonic() - start
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
        name for name in ("processes", "prepare", "cloud", "addons", "app", "dns", "total") if name in runs[0]
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
