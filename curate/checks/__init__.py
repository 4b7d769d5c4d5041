"""Built-in checks, one family per package; each package lists its checks in CHECKS."""
