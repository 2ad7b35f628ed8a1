"""Benchmarks and a fault-injection soak for the provider; run from the repo root with
``python -m benchmarks.bench`` and ``python -m benchmarks.soak``. Not part of the test suite's timing."""
