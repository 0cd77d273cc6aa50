"""CLI: run identity resolution in this process (all profiles, or those touched since a time)."""

from __future__ import annotations

import json
import resource
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tqdm import tqdm

from cdp.core.actor import Actor
from cdp.core.errors import DomainError
from profiles.models import ResolutionRun
from profiles.services.resolution import resolution_run_now
from profiles.services.resolution_runs import run_settings_build


class Command(BaseCommand):
    help = (
        "Match and merge duplicate profiles: --all trains the model and resolves every profile; "
        "otherwise only profiles touched since the last run (or --since) are matched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="full run over all profiles")
        parser.add_argument("--since", help="ISO date-time: profiles touched since then")
        parser.add_argument("--auto-merge", type=float, help="auto-merge threshold")
        parser.add_argument("--review", type=float, help="review threshold")
        parser.add_argument("--rules", help="comma-separated blocking rule names")
        parser.add_argument("--json", action="store_true", help="print the run as one JSON line")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        thresholds = {
            key: options[option]
            for key, option in (("auto_merge", "auto_merge"), ("review", "review"))
            if options[option] is not None
        }
        rules = options["rules"].split(",") if options["rules"] else None
        since = _parse_since(options["since"])
        mode = ResolutionRun.Mode.FULL if options["all"] else ResolutionRun.Mode.INCREMENTAL
        try:
            settings = run_settings_build(thresholds=thresholds or None, blocking_rules=rules)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        with tqdm(total=1, unit="step", disable=options["no_progress"]) as bar:

            def listen(stage: str, done: int, total: int) -> None:
                bar.set_description(stage)
                if total and stage == "merging":
                    bar.total, bar.n = total, done
                bar.refresh()

            run = resolution_run_now(
                mode=mode,
                actor=Actor(user_id=None, label="manage.py resolve_identities"),
                settings=settings,
                since=since,
                listener=listen,
            )
        peak_mb = _peak_rss_mb()
        if run.state != ResolutionRun.State.SUCCEEDED:
            raise CommandError(f"Run {run.pk} {run.state}: {run.error}")
        if options["json"]:
            body = {
                "run_id": run.pk,
                "mode": run.mode,
                "counts": run.counts,
                "timings": run.timings,
                "blocking_stats": run.blocking_stats,
                "peak_rss_mb": round(peak_mb, 1),
            }
            self.stdout.write(json.dumps(body))
            return
        counts = run.counts
        self.stdout.write(
            f"Run {run.pk} ({run.mode}): {counts.get('merges', 0)} merges, "
            f"{counts.get('review_pairs', 0)} pairs to review, "
            f"{counts.get('candidate_pairs', 0)} candidate pairs, "
            f"{run.timings.get('total', 0):.1f} s, peak {peak_mb:,.0f} MB."
        )


def _peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: after fork + exec Linux keeps
    the parent's resident size in ru_maxrss, so a command started by a big process would
    report the parent's memory."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _parse_since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--since must be an ISO date-time, got {text!r}") from exc
    return moment if moment.tzinfo else timezone.make_aware(moment, timezone.UTC)
