"""Admin UI (ML): Chart.js configurations built from a run's stored JSON — elbow, silhouette,
Calinski-Harabasz and Davies-Bouldin per k, k-distance, 2-D pictures, lift, calibration,
importances and metrics over time. Pure functions of dicts, no database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939",
)  # fmt: skip
NOISE_COLOUR = "#c7c7c7"


def _axes(x: str, y: str, **y_extra: Any) -> dict[str, Any]:
    return {
        "scales": {
            "x": {"title": {"display": True, "text": x}},
            "y": {"title": {"display": True, "text": y}, **y_extra},
        },
        "plugins": {"legend": {"display": False}},
    }


def _line(labels: Sequence[Any], values: Sequence[Any], label: str, colour: str) -> dict[str, Any]:
    return {
        "label": label,
        "data": list(values),
        "borderColor": colour,
        "backgroundColor": colour,
        "tension": 0,
    }


def k_selection_charts(selection: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """One line chart per validation figure, keyed elbow / silhouette / calinski / davies."""
    if not selection:
        return {}
    ks = selection["k_values"]
    figures = {
        "elbow": ("inertia", "Inertia (within-cluster sum of squares)"),
        "silhouette": ("silhouette", "Mean silhouette (sample)"),
        "calinski": ("calinski_harabasz", "Calinski-Harabasz"),
        "davies": ("davies_bouldin", "Davies-Bouldin (lower is better)"),
    }
    charts = {}
    for position, (key, (field, title)) in enumerate(figures.items()):
        charts[key] = {
            "type": "line",
            "data": {
                "labels": ks,
                "datasets": [_line(ks, selection[field], title, PALETTE[position])],
            },
            "options": _axes("k", title),
        }
    return charts


def k_distance_chart(k_distance: dict[str, Any] | None) -> dict[str, Any] | None:
    """Sorted distance to the k-th neighbour (DBSCAN's eps is read at the knee)."""
    if not k_distance:
        return None
    return {
        "type": "line",
        "data": {
            "labels": k_distance["rank"],
            "datasets": [
                _line(k_distance["rank"], k_distance["distance"], "k-distance", PALETTE[0])
            ],
        },
        "options": _axes("rows, sorted", f"distance to neighbour {k_distance['k']}"),
    }


def scatter_chart(picture: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    """Customers in 2-D coloured by cluster (one dataset per cluster, named)."""
    groups: dict[int, list[dict[str, float]]] = {}
    for x, y, label in zip(picture["x"], picture["y"], picture["labels"], strict=True):
        groups.setdefault(int(label), []).append({"x": x, "y": y})
    datasets = [
        {
            "label": names.get(label, f"cluster {label}"),
            "data": points,
            "pointRadius": 2,
            "backgroundColor": NOISE_COLOUR if label < 0 else PALETTE[label % len(PALETTE)],
        }
        for label, points in sorted(groups.items())
    ]
    options = _axes("component 1", "component 2")
    options["plugins"] = {"legend": {"display": True, "position": "right"}}
    return {"type": "scatter", "data": {"datasets": datasets}, "options": options}


def lift_chart(lift: list[dict[str, Any]]) -> dict[str, Any]:
    """Lift per score decile (1 = highest scores) and the cumulative lift."""
    deciles = [row["decile"] for row in lift]
    return {
        "type": "bar",
        "data": {
            "labels": deciles,
            "datasets": [
                {
                    "label": "lift",
                    "data": [row["lift"] for row in lift],
                    "backgroundColor": PALETTE[0],
                },
                {
                    "type": "line",
                    "label": "cumulative lift",
                    "data": [row["cumulative_lift"] for row in lift],
                    "borderColor": PALETTE[1],
                    "backgroundColor": PALETTE[1],
                },
            ],
        },
        "options": {
            **_axes("score decile (1 = highest)", "lift over the base rate"),
            "plugins": {"legend": {"display": True}},
        },
    }


def calibration_chart(calibration: dict[str, list[float]]) -> dict[str, Any]:
    """Observed share of positives against the mean predicted probability, with the diagonal."""
    points = [
        {"x": p, "y": f}
        for p, f in zip(
            calibration.get("mean_predicted", []),
            calibration.get("fraction_positive", []),
            strict=True,
        )
    ]
    return {
        "type": "scatter",
        "data": {
            "datasets": [
                {
                    "label": "model",
                    "data": points,
                    "showLine": True,
                    "borderColor": PALETTE[0],
                    "backgroundColor": PALETTE[0],
                },
                {
                    "label": "perfectly calibrated",
                    "data": [{"x": 0, "y": 0}, {"x": 1, "y": 1}],
                    "showLine": True,
                    "borderDash": [4, 4],
                    "borderColor": NOISE_COLOUR,
                    "pointRadius": 0,
                },
            ]
        },
        "options": {
            **_axes("mean predicted probability", "observed share", min=0, max=1),
            "plugins": {"legend": {"display": True}},
        },
    }


def importance_chart(importances: dict[str, float]) -> dict[str, Any]:
    """Feature importances, largest magnitude first (horizontal bars)."""
    ranked = sorted(importances.items(), key=lambda item: -abs(item[1]))[:15]
    return {
        "type": "bar",
        "data": {
            "labels": [name for name, _ in ranked],
            "datasets": [
                {
                    "label": "importance",
                    "data": [value for _, value in ranked],
                    "backgroundColor": PALETTE[2],
                }
            ],
        },
        "options": {
            "indexAxis": "y",
            "plugins": {"legend": {"display": False}},
            "scales": {"y": {"ticks": {"autoSkip": False}}},
        },
    }


def history_chart(points: list[tuple[str, float | None]], title: str) -> dict[str, Any]:
    """A metric of successive runs (labels are run dates)."""
    return {
        "type": "line",
        "data": {
            "labels": [label for label, _ in points],
            "datasets": [_line([], [value for _, value in points], title, PALETTE[3])],
        },
        "options": _axes("run", title),
    }


def decile_chart(values: list[float], title: str) -> dict[str, Any]:
    """A value per decile (1 = highest) as bars."""
    labels = list(range(1, len(values) + 1))
    return {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [{"label": title, "data": values, "backgroundColor": PALETTE[4]}],
        },
        "options": _axes("decile (1 = highest)", title),
    }
