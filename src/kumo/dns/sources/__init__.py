"""kumo.dns.sources."""
