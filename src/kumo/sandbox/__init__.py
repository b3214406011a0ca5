"""kumo.sandbox."""
