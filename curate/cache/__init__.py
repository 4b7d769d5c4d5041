"""The result cache: a store of values (keys, codec, store) that a second run replays.

`keys` says what an entry is keyed by, `codec` turns values into authenticated data-only bytes,
`store` keeps bytes by key, `seal` hides what may quote text; `result` is the engine's hook.
"""

from curate.cache.result import KEEP_RUNS, ResultCache, StoredRun, cache_size, clear_cache
from curate.io.cachedir import default_cache_dir

__all__ = ["KEEP_RUNS", "ResultCache", "StoredRun", "cache_size", "clear_cache", "default_cache_dir"]
