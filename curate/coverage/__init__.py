"""Topic coverage: records clustered by their embeddings into topics a person can read (counts,
shares, typical words, examples), and what one dataset covers that another does not."""
