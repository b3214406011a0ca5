"""kumo."""
