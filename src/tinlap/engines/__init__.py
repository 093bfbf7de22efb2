"""Engines only schedule: executors, the in-memory and sharded drivers, progress hooks."""
