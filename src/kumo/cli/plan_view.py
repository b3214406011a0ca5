"""``kumo plan`` as text: Rich tables for cloud resources and DNS records, a tree for objects."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from kumo.plan import Plan


def print_plan(console: Console, plan: Plan) -> None:
    where = f"{plan.cloud} ({plan.region})" if plan.region else plan.cloud
    env = f", env {plan.env}" if plan.env else ""
    console.print(f"[bold]kumo plan[/]: app [bold]{plan.app}[/] on {where}{env}, namespace {plan.namespace}")
    console.print("[dim]Offline: nothing is read from or changed in any cloud or cluster.[/]\n")

    if plan.cloud_resources:
        # A tree rather than a table: its labels wrap under themselves at any terminal width.
        cloud = Tree(f"[bold]Cloud resources ({len(plan.cloud_resources)})[/]  [dim]+ create, ? look up[/]")
        for resource in plan.cloud_resources:
            mark = "[green]+[/]" if resource.action == "create" else "[cyan]?[/]"
            node = cloud.add(f"{mark} {resource.type} [bold]{resource.name}[/]")
            if resource.summary:
                node.add(f"[dim]{escape(resource.summary)}[/]")
            for line in resource.details:
                node.add(f"[dim]{escape(line)}[/]")
        console.print(cloud)
        console.print()
    else:
        console.print(
            f"Cloud resources: none (kumo provisions clusters on aws only; {plan.cloud} uses "
            "the kubeconfig context)\n"
        )

    tree = Tree(f"[bold]Kubernetes objects ({len(plan.objects)})[/]")
    cluster_scoped = [o for o in plan.objects if o.namespace is None and o.kind != "Namespace"]
    namespaces = list(
        dict.fromkeys(
            [o.name for o in plan.objects if o.kind == "Namespace"]
            + [o.namespace for o in plan.objects if o.namespace is not None]
        )
    )
    if cluster_scoped:
        branch = tree.add("[dim]cluster-scoped[/]")
        for obj in cluster_scoped:
            branch.add(f"{obj.kind}/{obj.name}")
    for namespace in namespaces:
        members = [o for o in plan.objects if o.namespace == namespace]
        roles = {o.role for o in members} | {
            o.role for o in plan.objects if o.kind == "Namespace" and o.name == namespace
        }
        label = "add-ons" if roles == {"addon"} else "app"
        branch = tree.add(f"[bold]{namespace}[/] [dim]({label})[/]")
        for obj in [o for o in plan.objects if o.kind == "Namespace" and o.name == namespace] + members:
            branch.add(f"{obj.kind}/{obj.name}")
    console.print(tree)
    console.print()

    if plan.dns is not None:
        dns = plan.dns
        title = f"[bold]DNS records ({len(dns.records)})[/] in {dns.zone} via {dns.provider}"
        records = Tree(f"{title}, owner {dns.owner_id}")
        nodes: dict[str, Tree] = {}
        for record in dns.records:
            ttl = "alias" if record.ttl is None else f"ttl {record.ttl}"
            if record.type != "TXT":
                rtype = f"{record.type} ALIAS" if record.alias else record.type
                where = f"[dim]({ttl}, from {record.source})[/]"
                label = f"[bold]{record.name}[/] {rtype} -> {escape(record.target)} {where}"
                nodes[f"{record.type} {record.name}"] = records.add(label)
            else:
                parent = nodes.get(record.owns or "", records)
                parent.add(f"TXT {record.name} [dim]({ttl})[/] {escape(record.target)}")
        console.print(records)
        console.print()

    if plan.requires:
        needs = Tree("[bold]Must already exist[/] [dim](kumo does not install these)[/]")
        for requirement in plan.requires:
            needs.add(
                f"{requirement.kind} [bold]{escape(requirement.name)}[/] [dim]({escape(requirement.why)})[/]"
            )
        console.print(needs)
        console.print()

    if plan.pending:
        console.print("[bold]Filled in after the cloud step:[/]")
        for placeholder in plan.pending:
            console.print(f"  {placeholder}", markup=False)
