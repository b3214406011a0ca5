"""YAML stream and directory output, and the placeholders left for the cloud step."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from kumo.errors import UsageError
from kumo.render import CloudFacts, find_placeholders, render, to_yaml_stream, write_directory
from kumo.render.output import MARKER, file_name
from tests.unit.render.conftest import SpecFactory


def test_yaml_stream_round_trips_without_anchors(make_spec: SpecFactory) -> None:
    objects = render(make_spec("aws"))
    text = to_yaml_stream(objects)
    assert text.startswith("---\napiVersion: v1\nkind: Namespace\n")
    assert "&id" not in text and "*id" not in text
    assert list(YAML(typ="safe").load_all(text)) == objects


def test_directory_gets_one_file_per_object_in_apply_order(make_spec: SpecFactory, tmp_path: Path) -> None:
    objects = render(make_spec("aws"))
    written = write_directory(objects, tmp_path / "out")
    names = [p.name for p in written]
    assert names == sorted(names)
    assert names[0] == "01-cluster-namespace-kumo-system.yaml"
    assert "12-shop-service-web.yaml" in names
    assert YAML(typ="safe").load(written[-1].read_text()) == objects[-1]


def test_placeholders_are_listed_until_the_cloud_step_fills_them(make_spec: SpecFactory) -> None:
    spec = make_spec("aws")
    assert find_placeholders(render(spec)) == [
        "${kumo:aws-account-id}",
        "${kumo:acm-certificate-arn:www.example.com}",
    ]
    facts = CloudFacts(
        account_id="123456789012",
        certificate_arns={"www.example.com": "arn:aws:acm:ap-northeast-1:123456789012:certificate/x"},
    )
    assert find_placeholders(render(spec, facts=facts)) == []


def test_generic_render_needs_nothing_from_a_cloud(make_spec: SpecFactory) -> None:
    assert find_placeholders(render(make_spec("generic", "expose: gateway\n"))) == []


def test_a_second_render_replaces_the_files_of_the_first(make_spec: SpecFactory, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_directory(
        render(make_spec("aws", extra_service="  - name: worker\n    image: busybox:1.36\n")), out
    )
    (out / "README.txt").write_text("mine")
    second = write_directory(render(make_spec("aws")), out)
    assert sorted(p.name for p in out.iterdir()) == sorted([p.name for p in second] + ["README.txt"])
    assert not [p for p in out.iterdir() if "worker" in p.name]


def test_item03_render_dir_keeps_files_it_did_not_write(make_spec: SpecFactory, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    mine = {"01-my-configmap.yaml": "kind: ConfigMap\n", "99-extra.yaml": "kind: Secret\n"}
    for name, text in mine.items():
        (out / name).write_text(text)
    written = write_directory(render(make_spec("aws")), out)
    again = write_directory(render(make_spec("aws")), out)
    assert again == written
    for name, text in mine.items():
        assert (out / name).read_text() == text
    assert all(p.read_text().startswith(MARKER) for p in written)
    assert sorted(p.name for p in out.iterdir()) == sorted([p.name for p in written] + list(mine))


def test_item03_a_hand_written_file_in_the_way_stops_the_render_before_any_write(
    make_spec: SpecFactory, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = write_directory(
        render(make_spec("aws", extra_service="  - name: worker\n    image: busybox:1.36\n")), out
    )
    before = {p.name: p.read_text() for p in out.iterdir()}
    clash = out / file_name(1, render(make_spec("aws"))[0])
    clash.write_text("# my own namespace\nkind: Namespace\n")
    before[clash.name] = clash.read_text()
    with pytest.raises(UsageError, match=f"{clash.name} was not written by kumo render"):
        write_directory(render(make_spec("aws")), out)
    assert {p.name: p.read_text() for p in out.iterdir()} == before
    assert len(first) == len(before)
