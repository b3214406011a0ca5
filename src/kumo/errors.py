"""Errors that reach users.

Library code raises these; only ``kumo.cli`` turns them into text and exit codes, so every
layer can stay free of terminal concerns.
"""

from __future__ import annotations


class KumoError(Exception):
    """An error with a message a user can act on, and an optional hint."""

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(KumoError):
    """The user asked for something that cannot be done as asked (bad flag, bad file)."""

    exit_code = 2


class SpecError(UsageError):
    """``kumo.yaml`` is invalid. ``problems`` holds one line per problem, each with its location."""

    def __init__(self, problems: list[str], hint: str | None = None) -> None:
        super().__init__("\n".join(problems), hint)
        self.problems = problems


class ClusterError(KumoError):
    """The Kubernetes API refused or could not be reached."""


class ProviderError(KumoError):
    """A DNS or cloud provider call failed."""
