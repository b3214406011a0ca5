"""`kumo cloud plan / apply / destroy / status / token`: the AWS side of an aws target."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kumo.cli.output import OutputFormat, console, err_console, print_json
from kumo.errors import UsageError

if TYPE_CHECKING:  # imported inside each command: `kumo --help` loads no AWS client
    from kumo.cloud.aws import CloudOptions, CloudResult

cloud_app = typer.Typer(
    help="Provision the cloud side of an aws target (EKS, node group, OIDC, IAM roles, certificate).\n\n"
    "No state file: kumo finds its resources again by name and tag.\n\n"
    "Example: kumo cloud plan examples/online-app/kumo.yaml",
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(help="Path of the kumo.yaml.")]
EnvOpt = Annotated[
    str | None, typer.Option("--env", "-e", help="Environment (its hostnames get certificates).")
]
OutputOpt = Annotated[OutputFormat, typer.Option("--output", "-o", help="text or json.")]
FixTagsOpt = Annotated[
    bool,
    typer.Option(
        "--fix-subnet-tags",
        help="Add kubernetes.io/role/elb=1 (public) and kubernetes.io/role/internal-elb=1 (private) "
        "to subnets that lack them.",
    ),
]
KubeconfigOpt = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig",
        envvar="KUMO_KUBECONFIG",
        help="kubeconfig file to write the cluster's context into (default: $KUBECONFIG, ~/.kube/config).",
    ),
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig-endpoint",
        envvar="KUMO_KUBECONFIG_ENDPOINT",
        help="Point the written context at this API server instead of the EKS endpoint "
        "(e.g. the sandbox's Kubernetes API emulator).",
    ),
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait-timeout", help="Seconds each long wait (cluster, node group, certificate) may take."
    ),
]
_SIGNS = {"create": "[green]+[/]", "update": "[yellow]~[/]", "unchanged": "=", "lookup": "[cyan]?[/]"}


def options(
    env: str | None = None,
    fix_subnet_tags: bool = False,
    kubeconfig: str | None = None,
    kubeconfig_endpoint: str | None = None,
    wait_timeout: float = 1800.0,
) -> CloudOptions:
    from kumo.cli.cloud_progress import CloudCliReporter
    from kumo.cloud.aws import CloudOptions, Waits

    if wait_timeout <= 0:
        raise UsageError(f"--wait-timeout: expected a number of seconds > 0, found {wait_timeout}")
    waits = Waits(cluster=wait_timeout, nodegroup=wait_timeout, certificate=wait_timeout, delete=wait_timeout)
    return CloudOptions(
        env=env,
        fix_subnet_tags=fix_subnet_tags,
        kubeconfig=kubeconfig,
        kubeconfig_endpoint=kubeconfig_endpoint,
        waits=waits,
        reporter=CloudCliReporter(),
    )


def interrupted() -> UsageError:
    error = UsageError(
        "interrupted: every finished step is saved in the account itself",
        "Run `kumo cloud apply` again: it finds what exists and carries on.",
    )
    error.exit_code = 130
    return error


def _print_steps(result: CloudResult) -> None:
    for step in result.steps:
        sign = _SIGNS.get(step.action, step.action)
        state = f" [{step.state}]" if step.state else ""
        console.print(
            f"{sign} {step.action:9} {step.type:38} {step.name}{state}  [dim]{step.why}[/]", soft_wrap=True
        )
        for change in step.changes:
            console.print(f"      {change}", soft_wrap=True, markup=False)


def _print_outputs(result: CloudResult) -> None:
    out = result.outputs
    console.print(f"\naccount {out.account_id}, region {out.region}")
    for label, value in (
        ("cluster endpoint", out.cluster_endpoint),
        ("OIDC issuer", out.oidc_issuer),
        ("DNS controller role", out.dns_role_arn),
        ("kubeconfig context", f"{out.context} in {out.kubeconfig}" if out.context else None),
    ):
        if value:
            console.print(f"  {label}: {value}", soft_wrap=True)
    for host, arn in out.certificate_arns.items():
        console.print(f"  certificate {host}: {arn}", soft_wrap=True)


@cloud_app.command("plan")
def plan_cmd(
    file: FileArg,
    env: EnvOpt = None,
    output: OutputOpt = OutputFormat.text,
    fix_subnet_tags: FixTagsOpt = False,
) -> None:
    """Show what apply would do to each resource, and why, reading the account only.

    + create, ~ update (the fields that differ), = unchanged, ? look up.

    Example: kumo cloud plan examples/online-app/kumo.yaml --output json
    """
    from kumo.cloud.aws import plan

    result = plan(file, options(env, fix_subnet_tags))
    if output == OutputFormat.json:
        print_json(result.as_dict())
        return
    _print_steps(result)
    changes = sum(1 for s in result.steps if s.writes)
    console.print(f"\n{changes} to change, {len(result.steps) - changes} unchanged or looked up")


@cloud_app.command("apply")
def apply_cmd(
    file: FileArg,
    env: EnvOpt = None,
    output: OutputOpt = OutputFormat.text,
    fix_subnet_tags: FixTagsOpt = False,
    kubeconfig: KubeconfigOpt = None,
    kubeconfig_endpoint: EndpointOpt = None,
    wait_timeout: WaitOpt = 1800.0,
) -> None:
    """Create or update the cloud resources in dependency order, and write a kubeconfig context.

    The context's token comes from `kumo cloud token`. Safe to run again; resumes after a failure.

    Example: kumo cloud apply examples/online-app/kumo.yaml
    """
    result = run_apply(file, options(env, fix_subnet_tags, kubeconfig, kubeconfig_endpoint, wait_timeout))
    if output == OutputFormat.json:
        print_json(result.as_dict())
        return
    console.print(f"[green]✓[/] {result.app}: {result.writes} resource(s) changed")
    _print_outputs(result)


def run_apply(file: Path, opts: CloudOptions) -> CloudResult:
    from kumo.cloud.aws import apply

    try:
        return apply(file, opts)
    except KeyboardInterrupt:
        raise interrupted() from None


@cloud_app.command("status")
def status_cmd(file: FileArg, env: EnvOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """Show what exists, with its state, and the outputs the deploy needs.

    Outputs: account id, certificate ARNs, the DNS controller's role ARN, the cluster endpoint.

    Example: kumo cloud status examples/online-app/kumo.yaml
    """
    from kumo.cloud.aws import status

    result = status(file, options(env))
    if output == OutputFormat.json:
        print_json(result.as_dict())
        return
    for step in result.steps:
        console.print(
            f"{step.state or '':10} {step.type:38} {step.name}  [dim]{step.id or ''}[/]", soft_wrap=True
        )
    _print_outputs(result)


@cloud_app.command("destroy")
def destroy_cmd(
    file: FileArg,
    env: EnvOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")
    ] = False,
    delete_load_balancers: Annotated[
        bool,
        typer.Option(
            "--delete-load-balancers",
            help="Also delete the load balancers and target groups the cluster created for its Services.",
        ),
    ] = False,
    output: OutputOpt = OutputFormat.text,
    wait_timeout: WaitOpt = 1800.0,
) -> None:
    """Delete what kumo created for this app (found by its tags), in reverse order.

    Never touches anything kumo did not tag; the zone and the network stay. With --env, only that
    environment's certificates (the cluster is shared).

    Example: kumo cloud destroy examples/online-app/kumo.yaml --yes
    """
    from kumo.cloud.aws import destroy, destroy_plan

    ctx, existing, lbs = destroy_plan(file, options(env, wait_timeout=wait_timeout))
    if not existing and not lbs:
        if output == OutputFormat.json:
            print_json({"app": ctx.spec.app, "deleted": [], "loadBalancers": []})
        else:
            console.print(f"nothing of {ctx.spec.app} to delete")
        return
    if not yes:
        err_console.print("kumo cloud destroy will delete:", markup=False)
        for item in existing:
            err_console.print(f"  - {item}", markup=False)
        for lb in lbs:
            err_console.print(f"  - load balancer {lb.name} (made by the cluster)", markup=False)
        if not sys.stdin.isatty():
            raise UsageError("destroy needs confirmation", "Pass --yes to confirm without a terminal.")
        if not typer.confirm("Delete these?", default=False):
            raise UsageError("nothing deleted")
    try:
        result = destroy(ctx, delete_load_balancers, certificates_only=env is not None)
    except KeyboardInterrupt:
        raise interrupted() from None
    if output == OutputFormat.json:
        print_json(result.as_dict())
        return
    console.print(f"[green]✓[/] deleted {len(result.deleted)} resource(s) of {result.app}")


@cloud_app.command("token")
def token_cmd(
    cluster: Annotated[str, typer.Option("--cluster", help="EKS cluster name.")],
    region: Annotated[
        str | None, typer.Option("--region", help="Region (default: AWS_REGION, the profile's).")
    ] = None,
) -> None:
    """Print an EKS token as an ExecCredential (the kubeconfig exec plugin kumo writes calls this).

    Example: kumo cloud token --cluster online-app --region ap-northeast-1
    """
    from kumo.cloud.aws import exec_credential

    sys.stdout.write(json.dumps(exec_credential(cluster, region)) + "\n")


def register(app: typer.Typer) -> None:
    app.add_typer(cloud_app, name="cloud")
