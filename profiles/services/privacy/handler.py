"""Profiles services (privacy): the profiles app's export and erase handler — profiles,
identifiers, traits with provenance, events, orders, merges, every other profiles model that
points at a profile, quarantined records and import files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models, transaction
from django.db.models import Q, QuerySet

from cdp.core.hashing import keyed_hash
from cdp.core.privacy import ErasureReport, ExportPart, Subject
from profiles.models import (
    Event,
    Identifier,
    Order,
    Profile,
    ProfileMerge,
    ProfileTrait,
    QuarantinedRecord,
    TraitValue,
)

from .records import file_hits, files_erase, quarantine_of

_EXPLICIT = frozenset({Event, Identifier, TraitValue, ProfileTrait, Order, ProfileMerge, Profile})


def _other_owned(ids: Sequence[int]) -> list[QuerySet[Any]]:
    """Rows of every other profiles model pointing at the person's profiles (computed traits,
    match candidates, blocking keys ...), so a model added later is covered without a change."""
    conditions: dict[type[Any], Q] = {}
    for relation in Profile._meta.related_objects:
        model = relation.related_model
        if model._meta.app_label != "profiles" or model in _EXPLICIT:
            continue
        condition = Q(**{f"{relation.field.name}__in": ids})
        conditions[model] = conditions.get(model, Q(pk__in=[])) | condition
    return [model.objects.filter(condition) for model, condition in conditions.items()]


def _owned(model: type[Any], ids: Sequence[int]) -> QuerySet[Any]:
    return model.objects.filter(Q(profile_id__in=ids) | Q(origin_profile_id__in=ids))


def _events_of(subject: Subject) -> QuerySet[Event]:
    """The person's events: those of their profiles (a row's owner stays in the merge tree of
    its origin, so `profile` is enough and uses the timeline index), and pending ones not yet
    linked, by user or anonymous id (through the partial index of pending events)."""
    ids = list(
        Event.objects.filter(profile_id__in=list(subject.profile_ids)).values_list("pk", flat=True)
    )
    user_ids = [value for kind, value in subject.identifiers if kind == "user_id"]
    anonymous_ids = [value for kind, value in subject.identifiers if kind == "anonymous_id"]
    if user_ids or anonymous_ids:
        pending = Event.objects.filter(status=Event.Status.PENDING).filter(
            Q(user_id__in=user_ids) | Q(anonymous_id__in=anonymous_ids)
        )
        ids += pending.values_list("pk", flat=True)
    return Event.objects.filter(pk__in=ids)


def _identifiers_of(subject: Subject) -> QuerySet[Identifier]:
    condition = Q(profile_id__in=list(subject.profile_ids)) | Q(
        origin_profile_id__in=list(subject.profile_ids)
    )
    for kind, value in subject.identifiers:
        condition |= Q(type=kind, value=value)
    return Identifier.objects.filter(condition)


def _merges_of(subject: Subject) -> QuerySet[ProfileMerge]:
    ids = list(subject.profile_ids)
    return ProfileMerge.objects.filter(Q(survivor_id__in=ids) | Q(absorbed_id__in=ids))


def _merge_row(merge: ProfileMerge, ids: set[int]) -> dict[str, Any]:
    sides = {"survivor": merge.survivor_id, "absorbed": merge.absorbed_id}
    return {
        "id": merge.pk,
        "survivor_id": merge.survivor_id,
        "absorbed_id": merge.absorbed_id,
        "reason": merge.reason,
        "created_at": merge.created_at,
        "undone_at": merge.undone_at,
        # Only this person's side of the snapshot: the other side may be someone else.
        "snapshot": {side: merge.snapshot.get(side) for side, pk in sides.items() if pk in ids},
    }


def profiles_export(subject: Subject) -> ExportPart:
    """Everything the profiles app holds about the person, as JSON-able rows per table."""
    ids = list(subject.profile_ids)
    tables: dict[str, list[dict[str, Any]]] = {
        "profiles.profile": list(
            Profile.objects.filter(pk__in=ids).values(
                "id", "created_at", "updated_at", "merged_into_id", "last_seen_at", "traits"
            )
        ),
        "profiles.identifier": list(
            _identifiers_of(subject).values(
                "id", "type", "value", "source__name", "first_seen_at", "is_verified"
            )
        ),
        "profiles.traitvalue": list(
            _owned(TraitValue, ids).values(
                "id", "name", "value", "source__name", "observed_at", "record_ref", "event_id"
            )
        ),
        "profiles.profiletrait": list(
            ProfileTrait.objects.filter(profile_id__in=ids).values(
                "id", "name", "value", "rule", "chosen_id", "updated_at"
            )
        ),
        "profiles.event": list(
            _events_of(subject)
            .order_by("timestamp", "pk")
            .values("id", "type", "event", "timestamp", "source__name", "status", "payload")
        ),
        "profiles.order": list(
            _owned(Order, ids).values(
                "id", "order_id", "placed_at", "status", "currency", "total", "items", "category"
            )
        ),
        "profiles.profilemerge": [_merge_row(merge, set(ids)) for merge in _merges_of(subject)],
        "profiles.quarantinedrecord": [
            {
                "id": record.pk,
                "created_at": record.created_at,
                "reason": record.reason,
                "detail": record.detail,
                "payload": record.payload,
            }
            for record in quarantine_of(subject)
        ],
    }
    for rows in _other_owned(ids):
        tables[rows.model._meta.label_lower] = list(rows.values())
    files = file_hits(subject)
    if files:
        tables["files"] = files
    return ExportPart(app="profiles", tables=tables)


def _release_references(ids: Sequence[int]) -> None:
    """Rows of any app still pointing at the profiles (their handlers should have removed
    them): cascade-delete or null them as their foreign key says; events were deleted first."""
    for relation in Profile._meta.related_objects:
        model = relation.related_model
        if model in (Event, Profile):
            continue
        rows = model._base_manager.filter(**{f"{relation.field.name}__in": ids})
        if relation.on_delete is models.SET_NULL:
            rows.update(**{relation.field.name: None})
        else:
            rows.delete()  # CASCADE (PROTECT raises: the erasure fails rather than lie)


def _count(queryset: QuerySet[Any]) -> int:
    return queryset.delete()[1].get(queryset.model._meta.label, 0)


@transaction.atomic
def profiles_erase(subject: Subject) -> ErasureReport:
    """Delete the person's profiles and all they own; anonymise their orders (revenue stays
    as anonymous aggregates). Idempotent: a second run finds nothing and reports zeros."""
    ids = list(subject.profile_ids)
    deleted = {"profiles.importrun.file_lines": files_erase(subject)}
    deleted["profiles.quarantinedrecord"] = _count(
        QuarantinedRecord.objects.filter(pk__in=[r.pk for r in quarantine_of(subject)])
    )
    deleted["profiles.event"] = _count(_events_of(subject))
    orders = list(_owned(Order, ids))
    for order in orders:
        order.order_id = "erased-" + keyed_hash(order.order_id, domain="order")[:40]
        order.profile_id = order.origin_profile_id = order.event_id = None
    Order.objects.bulk_update(orders, ["order_id", "profile", "origin_profile", "event"])
    deleted["profiles.profiletrait"] = _count(ProfileTrait.objects.filter(profile_id__in=ids))
    deleted["profiles.traitvalue"] = _count(_owned(TraitValue, ids))
    deleted["profiles.identifier"] = _count(_identifiers_of(subject))
    for rows in _other_owned(ids):
        deleted[rows.model._meta.label_lower] = _count(rows)
    deleted["profiles.profilemerge"] = _count(_merges_of(subject))
    Profile.objects.filter(pk__in=ids).update(merged_into=None)
    _release_references(ids)
    # The collector of Profile.delete() would look for events by origin_profile, which has no
    # index (ADR 0001): the person's events are gone already, and the deferred foreign keys
    # make the transaction fail rather than leave a row pointing at a deleted profile.
    profiles = Profile.objects.filter(pk__in=ids)
    deleted["profiles.profile"] = profiles._raw_delete(profiles.db)
    return ErasureReport(
        app="profiles", deleted=deleted, anonymised={"profiles.order": len(orders)}
    )
