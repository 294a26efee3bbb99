"""The demo: believable services, a real agent and a real server, started by ``pricelens demo``.

A newcomer should see Pricelens fill with investigations within a minute without owning a supplier
feed. The demo services in :mod:`collector.demo.services` therefore fail the way the real ``load_mail``,
``load_ftp`` and ``consolidate`` fail — through real exceptions raised by real library code, logged with
``logger.exception`` into rotating log files — and the real agent ships them. :mod:`collector.demo.runner`
starts and stops the whole arrangement. Nothing here is imported by the server itself.
"""
