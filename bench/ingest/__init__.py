"""Ingest benchmark: ``python -m bench.ingest [--quick]`` (see ``__main__``)."""
