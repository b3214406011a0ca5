"""Commands about the spec itself: schema, render, plan."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kumo.cli.output import OutputFormat, console, err_console, print_json
from kumo.errors import KumoError, UsageError

if TYPE_CHECKING:  # the library is imported inside each command: every other command starts faster
    from kumo.spec import Spec

FileArg = Annotated[Path, typer.Argument(help="Path of the kumo.yaml to read.", show_default=False)]
EnvOption = Annotated[
    str | None,
    typer.Option("--env", "-e", help="Environment: one under `environments`, or any name for a preview."),
]


def schema(
    format: Annotated[
        str,
        typer.Option(
            "--format", help="json (the JSON Schema) or markdown (the field reference in docs/spec.md)."
        ),
    ] = "json",
) -> None:
    """Print the JSON Schema of kumo.yaml, for editor completion, or its field reference.

    Example: kumo schema > kumo.schema.json

    Example: kumo schema --format markdown > docs/spec.md
    """
    from kumo.spec import field_reference, json_schema

    if format == "markdown":
        sys.stdout.write(field_reference())
        return
    if format != "json":
        raise UsageError(f"--format: expected json or markdown, found {format!r}")
    print_json(json_schema())


def _load(file: Path, env: str | None, profile: str | None = None, region: str | None = None) -> Spec:
    from kumo.spec import load_spec, retarget

    spec = load_spec(file, env=env)
    if profile is not None and profile != spec.target.cloud:
        spec = retarget(spec, profile, region)
    return spec


def render_cmd(
    file: FileArg,
    env: EnvOption = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            help="Render for another cloud profile (aws, gcp, azure, generic) than target.cloud.",
        ),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="The region to use with --profile, in that cloud's form.")
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o", help="Write one file per object into this directory."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Also validate every object strictly for Kubernetes 1.29 and 1.33."),
    ] = False,
    with_console: Annotated[
        bool,
        typer.Option(
            "--with-console",
            help="Add in-cluster manifests for kumo console (read-only ClusterRole, non-root, read-only "
            "root filesystem; its token comes from the Secret kumo-console-token).",
        ),
    ] = False,
) -> None:
    """Print the Kubernetes manifests for kumo.yaml as a YAML stream, or write them to a directory.

    Example: kumo render examples/online-app/kumo.yaml --env staging -o out/
    """
    from kumo.render import find_placeholders, render, to_yaml_stream, validate_objects, write_directory

    if profile is not None and profile not in ("aws", "gcp", "azure", "generic"):
        raise UsageError(f"--profile: expected aws, gcp, azure or generic, found {profile!r}")
    spec = _load(file, env, profile, region)
    objects = render(spec, env, console=with_console)
    if check:
        problems = validate_objects(objects)
        if problems:
            raise KumoError("rendered objects are invalid:\n" + "\n".join(problems))
    if output_dir is not None:
        written = write_directory(objects, output_dir)
        err_console.print(f"wrote {len(written)} files to {output_dir}")
    else:
        sys.stdout.write(to_yaml_stream(objects))
    pending = find_placeholders(objects)
    if pending:
        err_console.print(
            f"note: {', '.join(pending)} are filled in by the cloud step (`kumo up`); "
            "set target.accountId or a certificate reference to render them now.",
            markup=False,
            soft_wrap=True,
        )


def plan_cmd(
    file: FileArg,
    env: EnvOption = None,
    output: Annotated[
        OutputFormat, typer.Option("--output", help="text for people, json for scripts.")
    ] = OutputFormat.text,
) -> None:
    """Show, offline, what `kumo up` would create: cloud resources, Kubernetes objects, DNS records.

    Example: kumo plan examples/online-app/kumo.yaml --output json
    """
    from kumo.cli.plan_view import print_plan
    from kumo.plan import build_plan
    from kumo.spec import load_spec

    plan = build_plan(load_spec(file, env=env), env)
    if output is OutputFormat.json:
        print_json(plan.to_dict())
    else:
        print_plan(console.rich, plan)


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
    app.command("render")(render_cmd)
    app.command("plan")(plan_cmd)
