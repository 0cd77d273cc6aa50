"""CLI helper (ML): a tqdm progress bar that follows a ModelRun's stage and percentage."""

from __future__ import annotations

from typing import Any

from tqdm import tqdm

from segments.models import ModelRun


class RunBar:
    """Callable hook for model_run_execute: moves the bar to the run's percent."""

    def __init__(self, label: str, stream: Any) -> None:
        self.bar = tqdm(total=100, desc=label, unit="%", file=stream, leave=True)

    def __call__(self, run: ModelRun) -> None:
        self.bar.set_postfix_str(run.stage[:40])
        self.bar.update(max(0, run.percent - self.bar.n))

    def close(self) -> None:
        self.bar.close()
