"""``python -m kumo``: the same as the ``kumo`` command (used by kubeconfig exec entries when
``kumo`` is not on PATH)."""

from kumo.cli import main

main()
