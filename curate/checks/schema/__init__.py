"""Schema and format: everything that makes an upload fail or a chat template misbehave."""

from curate.checks.schema.content_parts import CHECKS as _CONTENT_PARTS
from curate.checks.schema.conversation import CHECKS as _CONVERSATION
from curate.checks.schema.format import CHECKS as _FORMAT
from curate.checks.schema.keys import CHECKS as _KEYS
from curate.checks.schema.messages import CHECKS as _MESSAGES
from curate.checks.schema.preference import CHECKS as _PREFERENCE
from curate.checks.schema.read import READ_CHECKS
from curate.checks.schema.special_tokens import CHECKS as _SPECIAL_TOKENS
from curate.checks.schema.tools import CHECKS as _TOOLS
from curate.checks.schema.trainer_config import TrainerConfigMismatch
from curate.checks.schema.weight import CHECKS as _WEIGHT

CHECKS = [
    *READ_CHECKS,
    *_FORMAT,
    *_KEYS,
    *_MESSAGES,
    *_CONTENT_PARTS,
    *_CONVERSATION,
    *_TOOLS,
    *_WEIGHT,
    *_SPECIAL_TOKENS,
    *_PREFERENCE,
    TrainerConfigMismatch,
]
