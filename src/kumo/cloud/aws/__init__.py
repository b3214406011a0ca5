"""kumo.cloud.aws."""
