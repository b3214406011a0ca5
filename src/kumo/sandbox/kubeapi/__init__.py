"""kumo.sandbox.kubeapi."""
