"""pricelens-agent: the sidecar that delivers every error record of a service's logs exactly once.

Modules in pipeline order: `config` → `sources` (wake-ups) → `tailer` (files, rotation, offsets) with
`identity`, `framing` and `parsing`, and `errordirs` → `spool` (SQLite: events + offsets) → `shipper`
(HTTP delivery) → `heartbeat`, `status`; `runner` wires them, `cli` is the command line. Nothing here
imports the collector or the dashboard: the agent installs alone (`pip install 'pricelens[agent]'`).
"""
