"""pii checks: personal data, names and secrets in training text (presidio offline + own patterns)."""

from curate.checks.pii.entities import PiiEntities, PiiNames, PiiSecrets

CHECKS: list[type] = [PiiEntities, PiiNames, PiiSecrets]
