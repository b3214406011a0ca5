"""kumo.dns.providers."""
