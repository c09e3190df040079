"""Measurements printed by make targets: held-out accuracy, risk detection, latency."""
