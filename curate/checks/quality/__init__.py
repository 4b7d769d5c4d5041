"""Quality: content defects that teach a model bad habits, and the declarative custom rules.

Heuristics (refusals, placeholders, repetition, short or truncated answers, encoding damage,
markup leftovers, prompt copies, whitespace) and the generic rules users configure in YAML
without Python (`quality.pattern`, `quality.length`, `quality.field`).
"""

from curate.checks.quality.attachment import MissingAttachment
from curate.checks.quality.copy_prompt import CopiesPrompt
from curate.checks.quality.encoding import EncodingDamage
from curate.checks.quality.escapes import LiteralEscapes
from curate.checks.quality.field import FieldRule
from curate.checks.quality.length import Length
from curate.checks.quality.markup import Markup
from curate.checks.quality.pattern import Pattern
from curate.checks.quality.placeholder import Placeholder
from curate.checks.quality.reference import UnsupportedReference
from curate.checks.quality.refusal import Refusal, RefusalShare
from curate.checks.quality.repeats_input import RepeatsInput
from curate.checks.quality.repetition import Repetition
from curate.checks.quality.short_answer import ShortAnswer
from curate.checks.quality.truncated import Truncated
from curate.checks.quality.whitespace import Whitespace

CHECKS = [
    Refusal,
    RefusalShare,
    Placeholder,
    Repetition,
    ShortAnswer,
    Truncated,
    EncodingDamage,
    Markup,
    CopiesPrompt,
    RepeatsInput,
    LiteralEscapes,
    UnsupportedReference,
    MissingAttachment,
    Whitespace,
    Length,
    Pattern,
    FieldRule,
]
