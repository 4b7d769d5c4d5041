"""curate: audit and clean LLM fine-tuning datasets before you pay for a training run."""

__version__ = "0.1.0"
