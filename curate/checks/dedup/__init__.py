"""Duplicates: exact copies, near copies (MinHash + LSH, verified), conflicting prompts, and
training records that leak from evaluation files."""

from curate.checks.dedup.contamination import Contamination
from curate.checks.dedup.exact import ExactDuplicate
from curate.checks.dedup.near import NearDuplicate
from curate.checks.dedup.prompt import PromptAnswer

CHECKS: list[type] = [ExactDuplicate, NearDuplicate, PromptAnswer, Contamination]
