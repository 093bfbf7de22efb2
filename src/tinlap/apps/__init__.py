"""The applications on top: the CLI, the HTTP service, the report and ``explain``."""
