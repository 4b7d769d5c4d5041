"""Modal screens of the review UI: confirmations, the editor, filters and help."""
