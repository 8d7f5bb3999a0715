"""Runs: planning, records, state, limits, the executor, the worker and the playground."""
