"""``pricelens jobs …`` and ``pricelens scheduler``: the jobs from a terminal.

``jobs run`` and ``jobs backfill`` run in this process, in the foreground (a progress bar for backfills),
recorded in ``job_run`` like any other run; ``jobs list`` shows the schedules the scheduler keeps.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlmodel import Session

from collector.db import engine_for
from collector.models import JobRun
from collector.scheduler import backfill, control, jobs, runs
from collector.scheduler.service import SchedulerService
from collector.scheduler.service import run_scheduler as _run_scheduler
from collector.settings import get_settings

jobs_app = typer.Typer(help="The ClickHouse analysis and retention jobs.", no_args_is_help=True)
console = Console()
REPROCESS_HELP = "missing (default): days never analysed; failed: also failed ones; all: every day"
DRY_RUN_HELP = "report what would be opened, write nothing"


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2024-03-01") from None


def _report(run: JobRun) -> None:
    colour = "green" if run.status == runs.SUCCESS else "red" if run.status == runs.FAILED else "yellow"
    console.print(f"run {run.id} [{colour}]{run.status}[/{colour}] {run.figures or ''}")
    if run.error:
        console.print(f"  {run.error}")
    if run.investigations:
        console.print(f"  investigations: {', '.join(map(str, run.investigations))}")
    if run.status == runs.FAILED:
        raise typer.Exit(code=1)


@jobs_app.command("list")
def list_jobs() -> None:
    """Jobs with their schedule, next run and last outcome."""
    service = SchedulerService(get_settings(), lead=False).start()
    try:
        with Session(service.engine) as session:
            views = control.list_jobs(service, session)
    finally:
        service.shutdown()
    table = Table("job", "schedule", "next run", "last status", "last duration")
    for v in views:
        duration = f"{v.last_duration_seconds:.1f} s" if v.last_duration_seconds is not None else "-"
        nxt = "paused" if v.paused else f"{v.next_run_at:%Y-%m-%d %H:%M %Z}"
        table.add_row(v.id, v.schedule, nxt, v.last_status or "-", duration)
    console.print(table)


@jobs_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help=f"one of: {', '.join(jobs.SCHEDULED_JOBS)}")],
    day: Annotated[str | None, typer.Option("--day", help="YYYY-MM-DD (default: yesterday)")] = None,
) -> None:
    """Run a job now, in the foreground."""
    settings = get_settings()
    try:
        result = jobs.run_job(
            name, settings=settings, engine=engine_for(settings.effective_database_url),
            trigger="manual", day=_day(day),
        )  # fmt: skip
    except (jobs.UnknownJobError, runs.RunInProgressError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=2) from None
    _report(result)


@jobs_app.command("backfill")
def backfill_cmd(
    start: Annotated[str, typer.Option("--start", help="first day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--end", help="last day, YYYY-MM-DD")],
    reprocess: Annotated[str, typer.Option("--reprocess", help=REPROCESS_HELP)] = "missing",
    dry_run: Annotated[bool, typer.Option("--dry-run", help=DRY_RUN_HELP)] = False,
) -> None:
    """Analyse a range of past days, oldest first."""
    if reprocess not in ("missing", "failed", "all"):
        raise typer.BadParameter("--reprocess must be missing, failed or all")
    settings = get_settings()
    first, last = _day(start), _day(end)
    assert first is not None and last is not None
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        backfill.validate_range(first, last, settings)
        with Progress(*columns, console=console) as bar, jobs.clickhouse(settings) as ch:
            task = bar.add_task("backfill", total=None)

            def progress(done: int, total: int, day: date) -> None:
                bar.update(task, completed=done, total=total, description=f"analysed {day}")

            result = backfill.backfill(
                first, last, ch=ch, engine=engine_for(settings.effective_database_url), settings=settings,
                reprocess=reprocess, dry_run=dry_run, progress=progress,  # type: ignore[arg-type]
            )  # fmt: skip
    except (ValueError, runs.RunInProgressError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=2) from None
    _report(result)


def run_scheduler() -> None:
    """Run the scheduler alone (leads, or stands by while another process leads)."""
    _run_scheduler()
