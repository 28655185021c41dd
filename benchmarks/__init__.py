"""Speed and memory measurements. Each module runs with ``python -m benchmarks.<name>`` and
prints a table and one final JSON line."""
