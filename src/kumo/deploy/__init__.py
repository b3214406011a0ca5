"""kumo.deploy."""
