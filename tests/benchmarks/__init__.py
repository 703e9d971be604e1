"""Benchmarks: run by hand (``python -m tests.benchmarks.NAME``), never collected by pytest.
They print figures and assert nothing about speed."""
