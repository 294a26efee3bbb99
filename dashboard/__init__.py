"""Pricelens dashboard: server-rendered pages over the collector's database (see ``dashboard.app``)."""
