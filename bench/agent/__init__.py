"""Benchmark of pricelens-agent against syslog-ng and grep (run: python -m bench.agent)."""
