"""CLI: write scores to the profiles now with the stored models — churn/propensity scoring and
the re-scoring of dynamic clusters (new and changed profiles) — with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tqdm import tqdm

from segments.selectors.ml import scoring_model_ids
from segments.services.ml.dynamic import (
    cluster_drift_check,
    clusters_rescore,
    dynamic_definition_ids,
)
from segments.services.ml.predictive import predictive_model_score


class Command(BaseCommand):
    help = "Score every customer with the active models and re-score dynamic clusters."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--drift", action="store_true", help="Also check centroid drift")

    def handle(self, *args: Any, **options: Any) -> None:
        models, definitions = scoring_model_ids(), dynamic_definition_ids()
        with tqdm(total=len(models) + len(definitions), desc="scoring", file=self.stderr) as bar:
            for model_id in models:
                written = predictive_model_score(model_id=model_id)
                self.stdout.write(f"model {model_id}: {written} profiles scored")
                bar.update(1)
            for definition_id in definitions:
                outcome = clusters_rescore(definition_id=definition_id)
                line = f"clustering {definition_id}: {outcome.rescored} re-scored"
                if options["drift"]:
                    drift = cluster_drift_check(definition_id=definition_id)
                    if drift is not None:
                        line += f", drift {drift.max_relative_shift:.3f}" + (
                            " (retrain queued)" if drift.is_over_threshold else ""
                        )
                self.stdout.write(line)
                bar.update(1)
