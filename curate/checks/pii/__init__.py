"""pii checks: personal data and secrets in training text (presidio offline + own patterns)."""

from curate.checks.pii.coverage import NerUnavailable
from curate.checks.pii.entities import PiiEntities, PiiSecrets

CHECKS: list[type] = [PiiEntities, PiiSecrets, NerUnavailable]
