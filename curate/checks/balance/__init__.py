"""Balance and coverage: language and category mix, length, turns, system prompts, openings, topics."""

from curate.checks.balance.category import Category
from curate.checks.balance.language import Language
from curate.checks.balance.shape import Length, Openings, SystemPrompts, Turns
from curate.checks.balance.topics import Topics

CHECKS = [Language, Category, Length, Turns, SystemPrompts, Openings, Topics]
