"""Ready-made RFM segments: one dynamic segment per RFM segment name, refreshed after the
nightly scoring (03:00) at 03:30."""

from django.db import migrations

RFM_SEGMENTS = [
    ("Champions", "Bought recently, buy often: R 5, F 4–5."),
    ("Loyal", "Buy often, fairly recently: R 3–4, F 4–5."),
    ("Potential loyalists", "Recent buyers with a few orders: R 4–5, F 2–3."),
    ("New", "First order very recently: R 5, F 1."),
    ("Promising", "Recent single purchase: R 4, F 1."),
    ("Need attention", "Average recency and frequency: R 3, F 3."),
    ("About to sleep", "Slipping: R 3, F 1–2."),
    ("At risk", "Used to buy often, not lately: R 1–2, F 3–4."),
    ("Can't lose them", "Were among the best, not lately: R 1–2, F 5."),
    ("Hibernating", "Long ago, few orders: R 2, F 1–2."),
    ("Lost", "Longest ago, fewest orders: R 1, F 1–2."),
]


def create(apps, schema_editor):
    Segment = apps.get_model("segments", "Segment")
    for name, description in RFM_SEGMENTS:
        Segment.objects.get_or_create(
            name=f"RFM: {name}",
            defaults={
                "description": description,
                "kind": "dynamic",
                "origin": "rfm",
                "rule_tree": {
                    "all": [{"type": "computed", "trait": "rfm_segment", "op": "eq", "value": name}]
                },
                "refresh_cron": "30 3 * * *",
            },
        )


def remove(apps, schema_editor):
    Segment = apps.get_model("segments", "Segment")
    Segment.objects.filter(origin="rfm", name__in=[f"RFM: {n}" for n, _ in RFM_SEGMENTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("segments", "0001_segments_membership_custom_traits")]
    operations = [migrations.RunPython(create, remove)]
