"""Duplicates: exact copies, near copies (MinHash + LSH, verified), conflicting prompts, and
training records that leak from evaluation files, and paraphrased requests (semantic)."""

from curate.checks.dedup.contamination import Contamination
from curate.checks.dedup.exact import ExactDuplicate
from curate.checks.dedup.near import NearDuplicate
from curate.checks.dedup.prompt import PromptAnswer
from curate.checks.dedup.semantic import SemanticDuplicate

CHECKS: list[type] = [ExactDuplicate, NearDuplicate, PromptAnswer, Contamination, SemanticDuplicate]
