"""dedup checks."""

CHECKS: list[type] = []
