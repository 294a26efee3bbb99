"""Demo stand-ins for ``load_mail``, ``load_ftp`` and ``consolidate``; each runs as ``python -m``."""
