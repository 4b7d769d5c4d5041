"""tokens checks: exact offline token counts, over-limit and untrainable examples, outliers, cost."""

from curate.checks.tokens.cost import CostEstimate
from curate.checks.tokens.labels import AssistantTruncated, DroppedByLength, LabelsAllMasked, TemplateRefuses
from curate.checks.tokens.limit import OverLimit
from curate.checks.tokens.outlier import LengthOutlier
from curate.checks.tokens.stats import TokenStats
from curate.checks.tokens.trainable import NoTrainable

CHECKS: list[type] = [
    TokenStats,
    OverLimit,
    NoTrainable,
    LengthOutlier,
    CostEstimate,
    LabelsAllMasked,
    AssistantTruncated,
    DroppedByLength,
    TemplateRefuses,
]
