"""kumo.render."""
