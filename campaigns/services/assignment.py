"""Campaigns services: record each person's arm (variant or holdout) the first time they are
eligible — deterministic hashing of (campaign, salt, profile id), stored once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from campaigns.compute.assignment import assign_many
from campaigns.models import Assignment, Campaign
from campaigns.selectors.campaigns import arm_specs

CHUNK = 5_000


def assignments_ensure(
    *, campaign: Campaign, profile_ids: Iterable[int], at: datetime
) -> dict[int, str]:
    """The recorded arm of each profile, assigning (and recording) those not yet assigned.

    Idempotent: an existing assignment is returned unchanged, even if weights changed since;
    concurrent callers agree because the hash is deterministic and the unique key
    (campaign, profile) keeps the first row. Raises ValueError for invalid variants.
    """
    ids = sorted(set(profile_ids))
    arms: dict[int, str] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        arms.update(
            Assignment.objects.filter(campaign=campaign, profile_id__in=chunk).values_list(
                "profile_id", "arm"
            )
        )
    missing = [profile_id for profile_id in ids if profile_id not in arms]
    if not missing:
        return arms
    if not campaign.variants.all():
        raise ValueError(f"campaign {campaign.pk} has no variants to assign")
    computed = assign_many(
        str(campaign.pk),
        [str(profile_id) for profile_id in missing],
        salt=campaign.salt,
        variants=arm_specs(campaign),
        holdout_share=float(campaign.holdout_share),
    )
    rows = [
        Assignment(campaign=campaign, profile_id=profile_id, arm=str(arm), assigned_at=at)
        for profile_id, arm in zip(missing, computed, strict=True)
    ]
    Assignment.objects.bulk_create(rows, ignore_conflicts=True, batch_size=CHUNK)
    arms.update({row.profile_id: row.arm for row in rows})
    return arms
