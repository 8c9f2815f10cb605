"""Benchmarks for kg (issue 5): a corpus generator, the obvious baseline pipeline and the runner.

Benchmarks are scripts that print figures (`python -m bench.run`), not timed unit tests.
"""
