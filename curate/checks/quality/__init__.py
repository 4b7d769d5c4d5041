"""quality checks."""

CHECKS: list[type] = []
