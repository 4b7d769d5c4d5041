"""balance checks."""

CHECKS: list[type] = []
