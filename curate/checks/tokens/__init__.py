"""tokens checks."""

CHECKS: list[type] = []
