"""Start-up of the kumo CLI: wall and CPU time of a command, and which heavy libraries it loads.

    .venv/bin/python benchmarks/cli_startup_bench.py --rounds 7 -- plan examples/online-app/kumo.yaml

Prints one JSON object. CPU time (user + sys of the child) is steadier than wall time on shared
cores. Run it with PYTHONPATH pointing at another source tree to compare two versions. kumo's
modules are byte-compiled first, as an installed kumo's are.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: Libraries a command that does not talk to a cluster or a cloud should not need.
HEAVY = (
    "lightkube",
    "httpx2",
    "httpx",
    "boto3",
    "botocore",
    "dns.resolver",
    "starlette",
    "uvicorn",
    "jinja2",
)
KUMO = str(Path(sys.executable).parent / "kumo")


def compile_kumo() -> None:
    """Byte-compile kumo's modules, as ``pip install`` does. Run from a source tree with
    PYTHONDONTWRITEBYTECODE set (as on the project's machines), every ``kumo`` process would
    otherwise compile its ~50 modules first (~75 ms), which no installed kumo pays."""
    import compileall

    import kumo

    compileall.compile_dir(str(Path(kumo.__file__).parent), quiet=1)


def loaded(args: list[str]) -> list[str]:
    """The heavy modules imported by running ``kumo ARGS`` (in a child, as the CLI runs)."""
    code = "\n".join(
        [
            "import sys",
            f"sys.argv = ['kumo', *{args!r}]",
            "from kumo.cli import main",
            "try:",
            "    main()",
            "except SystemExit:",
            "    pass",
            f"found = [m for m in {HEAVY!r} if m in sys.modules]",
            "print('HEAVY=' + ','.join(found), file=sys.stderr)",
        ]
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    line = next((ln for ln in result.stderr.splitlines() if ln.startswith("HEAVY=")), "HEAVY=")
    return [m for m in line.removeprefix("HEAVY=").split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("command", nargs="+", help="kumo's arguments, e.g. plan FILE")
    opts = parser.parse_args()
    compile_kumo()
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(opts.rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([KUMO, *opts.command], capture_output=True, timeout=120, env=dict(os.environ))
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    print(
        json.dumps(
            {
                "command": ["kumo", *opts.command],
                "rounds": opts.rounds,
                "wall_median_s": round(statistics.median(walls), 3),
                "wall_min_s": round(min(walls), 3),
                "cpu_median_s": round(statistics.median(cpus), 3),
                "heavy_modules_loaded": loaded(opts.command),
                "pythonpath": os.environ.get("PYTHONPATH", ""),
            }
        )
    )


if __name__ == "__main__":
    main()
