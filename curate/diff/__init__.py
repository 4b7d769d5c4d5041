"""`curate diff`: what changed between two versions of a dataset (files, folders or git revisions).

Both sides run through the normal audit engine (and its result cache, so an unchanged side
replays); `compare` turns the two reports into one diff document, rendered as Markdown for a
pull-request comment or as JSON.
"""
