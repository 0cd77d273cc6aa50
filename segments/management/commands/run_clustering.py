"""CLI: run a clustering now, in this process, with a progress bar — an existing definition,
or a new one from a list of computed-trait features."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cdp.core.actor import Actor
from cdp.core.errors import DomainError
from segments.models import ClusterDefinition, ModelRun
from segments.services.ml.definitions import ClusterDefinitionInput, cluster_definition_create
from segments.services.ml.execute import model_run_execute
from segments.services.ml.runs import model_run_request

from ._ml_progress import RunBar

ACTOR = Actor(user_id=None, label="run_clustering")


class Command(BaseCommand):
    help = "Cluster the profiles now (k chosen by elbow and silhouette unless --k is given)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Name of the clustering (created if --features given)")
        parser.add_argument("--features", default="", help="Comma-separated computed traits")
        parser.add_argument(
            "--algorithm", default="kmeans", choices=ClusterDefinition.Algorithm.values
        )
        parser.add_argument("--k", type=int, default=None)
        parser.add_argument("--k-max", type=int, default=8)
        parser.add_argument("--seed", type=int, default=0)

    def _definition(self, options: dict[str, Any]) -> ClusterDefinition:
        existing = ClusterDefinition.objects.filter(name=options["name"]).first()
        if existing is not None or not options["features"]:
            if existing is None:
                raise CommandError(f"No clustering named {options['name']!r}; give --features.")
            return existing
        features = [name.strip() for name in options["features"].split(",") if name.strip()]
        spec = {
            "numeric": [{"name": name, "imputation": "median"} for name in features],
            "max_missing_share": 0.5,
        }
        return cluster_definition_create(
            data=ClusterDefinitionInput(
                name=options["name"],
                spec=spec,
                algorithm=options["algorithm"],
                k=options["k"],
                k_max=options["k_max"],
                random_state=options["seed"],
            ),
            actor=ACTOR,
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            definition = self._definition(options)
            run = model_run_request(
                actor=ACTOR,
                definition_id=definition.pk,
                trigger=ModelRun.Trigger.COMMAND,
                kick=False,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        bar = RunBar(f"clustering #{run.pk}", self.stderr)
        state = model_run_execute(model_run_id=run.pk, hook=bar)
        bar.close()
        run.refresh_from_db()
        if state != ModelRun.State.SUCCEEDED:
            raise CommandError(f"Run #{run.pk} {state}: {run.error}")
        metrics = run.metrics
        self.stdout.write(
            f"Run #{run.pk}: k={metrics['k']}, silhouette={metrics.get('silhouette')}, "
            f"{run.n_rows} profiles; clusters: "
            + ", ".join(f"{c.name} ({c.size})" for c in run.clusters.order_by("index"))
        )
