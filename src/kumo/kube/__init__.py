"""kumo.kube."""
