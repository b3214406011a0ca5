"""kumo.cloud."""
