"""The scheduler and its ClickHouse jobs (analysis.md): daily analysis, backfill, event retention.

Read in this order: ``sql`` (what is asked of ClickHouse) → ``rules`` (pure judgement) →
``daily_analysis`` / ``backfill`` / ``retention`` (the jobs, plain functions) → ``runs`` (their history)
→ ``jobs`` (registry and wiring) → ``service`` + ``leader`` (APScheduler, one leader) → ``control``,
``api``, ``cli`` (how people drive them).
"""
