"""The pure kernels and rules: what is a copy and which document is kept.

No file or network I/O, no executors, no CLI, no progress bars: every engine and the index call
these same functions, so they agree by construction.
"""
