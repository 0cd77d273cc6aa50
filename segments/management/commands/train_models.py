"""CLI: train churn, propensity and CLV models now, in this process, with progress bars."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cdp.core.actor import Actor
from cdp.core.errors import DomainError
from segments.models import ModelRun, PredictiveModel
from segments.services.ml.definitions import PredictiveModelInput, predictive_model_create
from segments.services.ml.execute import model_run_execute
from segments.services.ml.runs import model_run_request

from ._ml_progress import RunBar

ACTOR = Actor(user_id=None, label="train_models")


class Command(BaseCommand):
    help = "Train predictive models (all active ones, or those named; --create makes them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="Model names (default: every active model)")
        parser.add_argument(
            "--create",
            choices=PredictiveModel.Target.values,
            help="Create the named models with this target first",
        )
        parser.add_argument("--horizon-days", type=int, default=90)

    def _models(self, options: dict[str, Any]) -> list[PredictiveModel]:
        names = options["names"]
        if options["create"]:
            for name in names:
                if not PredictiveModel.objects.filter(name=name).exists():
                    predictive_model_create(
                        data=PredictiveModelInput(
                            name=name,
                            target=options["create"],
                            horizon_days=options["horizon_days"],
                        ),
                        actor=ACTOR,
                    )
        models = PredictiveModel.objects.order_by("pk")
        models = models.filter(name__in=names) if names else models.filter(is_active=True)
        found = list(models)
        missing = sorted(set(names) - {model.name for model in found})
        if missing:
            raise CommandError(f"No model named {', '.join(missing)} (use --create).")
        return found

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            models = self._models(options)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        failed = []
        for model in models:
            run = model_run_request(
                actor=ACTOR,
                predictive_model_id=model.pk,
                trigger=ModelRun.Trigger.COMMAND,
                kick=False,
            )
            bar = RunBar(f"{model.name} #{run.pk}", self.stderr)
            state = model_run_execute(model_run_id=run.pk, hook=bar)
            bar.close()
            run.refresh_from_db()
            if state != ModelRun.State.SUCCEEDED:
                failed.append(f"{model.name}: {run.error}")
                continue
            metrics = run.metrics
            headline = (
                f"best {metrics.get('best_model')}, test ROC-AUC {metrics.get('test_roc_auc')}"
                if model.target != PredictiveModel.Target.CLV
                else f"mean CLV {metrics.get('mean_predicted_clv'):.2f}"
            )
            self.stdout.write(f"{model.name}: run #{run.pk}, {headline}")
        if failed:
            raise CommandError("; ".join(failed))
