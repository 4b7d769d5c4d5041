"""The run: per-record work on workers, values back, dataset checks, a Report.

Read in this order: `results` (the values that cross from per-record work to everything else),
`replay` (those values to and from the result cache), then `curate.engine` (scheduling blocks on
the process pool, observing, finalizing). The cache never imports this package.
"""
