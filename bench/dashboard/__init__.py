"""``python -m bench.dashboard``: render times of the dashboard at 10,000 investigations / 1M events."""
