"""Pricelens collector: the ingest API, the investigations core, storage and the ClickHouse jobs."""

__version__ = "0.1.0"
