"""kumo.dns."""
