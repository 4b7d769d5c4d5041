"""The run: per-record work on workers, values back, dataset checks, a Report.

Read top-down:

- `results`: `RecordResult`, the one value that crosses from per-record work to everything else;
- `runner`: per-record work over a unit (a block of lines): raw records in, results out;
- `replay`: those results to and from the result cache (which knows nothing of the run);
- `findings`: hits stamped into findings, check failures into bounded error lines;
- `scheduling`: units of work to results in file order, inline or on a pool of worker processes;
- `engine`: drives the scheduler, has the dataset checks observe, merge and finalize; returns a Report;
- `shards`: `--shard K/N` slices, their saved state, and `curate merge`.

The cache never imports this package; checks never import it.
"""
