"""Balance and coverage: language and category mix, length, turns, system prompts, openings."""

from curate.checks.balance.category import Category
from curate.checks.balance.language import Language
from curate.checks.balance.shape import Length, Openings, SystemPrompts, Turns

CHECKS = [Language, Category, Length, Turns, SystemPrompts, Openings]
