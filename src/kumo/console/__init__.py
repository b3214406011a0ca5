"""kumo.console."""
