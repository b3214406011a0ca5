"""The kubeconfig `kumo sandbox kubeapi --kubeconfig` writes."""

from __future__ import annotations

import stat
from pathlib import Path

import yaml

from kumo.sandbox.kubeapi import write_kubeconfig


def test_item05_kubeconfig_write_ignores_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    target = tmp_path / "kubeconfig"
    (tmp_path / "kubeconfig.tmp").symlink_to(victim)  # the name the old code wrote through
    write_kubeconfig(target, "http://127.0.0.1:1234")
    assert victim.read_text() == "precious\n"
    assert yaml.safe_load(target.read_text())["clusters"][0]["cluster"]["server"] == "http://127.0.0.1:1234"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kubeconfig", "kubeconfig.tmp", "victim"]


def test_item05_kubeconfig_replaces_a_symlink_at_the_target_itself(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    target = tmp_path / "kubeconfig"
    target.symlink_to(victim)
    write_kubeconfig(target, "http://127.0.0.1:1234")
    assert victim.read_text() == "precious\n"
    assert not target.is_symlink()
