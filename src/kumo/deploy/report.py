"""How the engine tells the caller what it is doing. The CLI prints; tests may record or pause."""

from __future__ import annotations

from kumo.deploy.objects import Ref
from kumo.deploy.wait import ObjectProgress


class Reporter:
    """No-op base: override what you want to show."""

    def message(self, text: str) -> None:
        """A step or notice, e.g. "waiting for the lock held by ..."."""

    def applied(self, ref: Ref, action: str) -> None:
        """``action`` is applied, pruned or deleted."""

    def progress(self, objects: list[ObjectProgress]) -> None:
        """The readiness of every waited-for object, each time any of them changes."""
