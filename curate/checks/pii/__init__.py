"""pii checks."""

CHECKS: list[type] = []
