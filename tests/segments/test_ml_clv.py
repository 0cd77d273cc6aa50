from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import time_machine
from scipy.special import betaln, gammaln

from profiles.models import Order
from segments.models import ModelRun, ProfileScore
from segments.services.ml.execute import model_run_execute
from segments.services.ml.runs import model_run_request

from .ml_data import ACTOR, NOW, histories, predictive

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW):
        yield


def _bgnbd_ll(r, alpha, a, b, x, t_x, big_t):
    """Fader, Hardie & Lee (2005) eq. 6, written out per customer (not the module's code)."""
    first = gammaln(r + x) - gammaln(r) + r * math.log(alpha)
    alive = betaln(a, b + x) - betaln(a, b) - (r + x) * math.log(alpha + big_t)
    if x == 0:
        return first + alive
    dead = betaln(a + 1, b + x - 1) - betaln(a, b) - (r + x) * math.log(alpha + t_x)
    return first + float(np.logaddexp(alive, dead))


def _summary(profile_days: dict[int, list[pd.Timestamp]]) -> list[tuple[float, float, float]]:
    today = pd.Timestamp(NOW).floor("D")
    rows = []
    for days in profile_days.values():
        unique = sorted(set(days))
        rows.append(
            (
                float(len(unique) - 1),
                float((unique[-1] - unique[0]).days),
                float((today - unique[0]).days),
            )
        )
    return rows


def test_clv_run_writes_value_alive_and_expected_purchases_at_a_likelihood_maximum():
    truth = histories(steady=50, stopping=50, seed=4)
    model = predictive("CLV 12 months", "clv")
    run = model_run_request(actor=ACTOR, predictive_model_id=model.pk)

    model_run_execute(model_run_id=run.pk)

    run.refresh_from_db()
    assert run.state == ModelRun.State.SUCCEEDED, run.error
    assert run.kind == ModelRun.Kind.CLV
    scores = {
        row["profile_id"]: row
        for row in ProfileScore.objects.filter(model=model).values(
            "profile_id", "score", "probability_alive", "expected_purchases"
        )
    }
    assert set(scores) == set(truth)
    alive_steady = np.mean([scores[p]["probability_alive"] for p, s in truth.items() if not s])
    alive_stopped = np.mean([scores[p]["probability_alive"] for p, s in truth.items() if s])
    assert alive_steady > alive_stopped
    assert all(row["score"] >= 0 and row["expected_purchases"] >= 0 for row in scores.values())
    assert run.metrics["holdout_customers"] > 0
    assert run.metrics["holdout_correlation"] > 0.5

    days: dict[int, list[pd.Timestamp]] = {}
    for profile_id, placed in Order.objects.filter(status="completed").values_list(
        "profile_id", "placed_at"
    ):
        days.setdefault(profile_id, []).append(pd.Timestamp(placed).floor("D"))
    customers = _summary(days)
    params = run.params["bgnbd"]
    best = sum(
        _bgnbd_ll(params["r"], params["alpha"], params["a"], params["b"], *c) for c in customers
    )
    assert best == pytest.approx(params["log_likelihood"], rel=1e-9)
    for name in ("r", "alpha", "a", "b"):
        for factor in (0.97, 1.03):
            moved = {**params, name: params[name] * factor}
            other = sum(
                _bgnbd_ll(moved["r"], moved["alpha"], moved["a"], moved["b"], *c) for c in customers
            )
            assert other <= best + 1e-6, (name, factor)
