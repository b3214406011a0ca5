"""``python -m kumo.sandbox.kubeapi``: the emulator in the foreground (used by the subprocess mode)."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from kumo.sandbox.kubeapi.kubeconfig import write_kubeconfig
from kumo.sandbox.kubeapi.runner import Emulator, EmulatorOptions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kumo.sandbox.kubeapi")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--no-simulate", action="store_true")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--ready-delay", type=float, default=None)
    ap.add_argument("--ready-json", action="store_true", help='print {"url": ...} on stdout when ready')
    ap.add_argument(
        "--eks-sts-endpoint",
        default=None,
        help="accept EKS tokens (k8s-aws-v1.) by replaying them to this STS endpoint (the sandbox's moto)",
    )
    args = ap.parse_args(argv)
    sim = {} if args.ready_delay is None else {"pod_ready_delay": args.ready_delay}
    emu = Emulator(EmulatorOptions(port=args.port, simulate=not args.no_simulate, seed=args.seed, sim=sim))
    if args.eks_sts_endpoint:
        from kumo.sandbox.eksauth import EksAuthenticator

        emu.app.authenticators.append(EksAuthenticator(args.eks_sts_endpoint))
    emu.bind()
    write_kubeconfig(args.kubeconfig, emu.url)

    def ready() -> None:
        if args.ready_json:
            sys.stdout.write(json.dumps({"url": emu.url, "kubeconfig": args.kubeconfig}) + "\n")
            sys.stdout.flush()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, emu.request_stop)
        await emu.serve(ready)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
