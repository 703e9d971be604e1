"""Benchmarks: how fast, how big and what it costs, each against a reference measured in
the same run. ``python -m benchmarks`` (or ``scripts/benchmark``) runs them and prints a
table; docs/benchmarks.md records the figures. Nothing here asserts speed in tests."""
