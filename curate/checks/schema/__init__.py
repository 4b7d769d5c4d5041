"""Schema and format: everything that makes an upload fail or a chat template misbehave."""

from curate.checks.schema.conversation import CHECKS as _CONVERSATION
from curate.checks.schema.format import CHECKS as _FORMAT
from curate.checks.schema.messages import CHECKS as _MESSAGES
from curate.checks.schema.read import READ_CHECKS

CHECKS = [*READ_CHECKS, *_FORMAT, *_MESSAGES, *_CONVERSATION]
