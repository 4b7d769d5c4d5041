"""The review UI (Textual). Imported only by `curate review`: nothing below the CLI imports it."""
