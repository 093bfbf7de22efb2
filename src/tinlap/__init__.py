"""tinlap: find the same text published many times and hand back a clean corpus."""

__version__ = "0.1.0"
