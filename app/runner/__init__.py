"""Executing test runs: calling models, and the worker that drains the task queue."""
