"""Browser, HTTP and unit tests of the dashboard (``dashboard/``)."""
