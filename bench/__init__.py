"""Benchmarks of autotagger (`make bench` / `python -m bench`); results in bench/results.json and
docs/performance.md."""
