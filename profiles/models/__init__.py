"""Profiles models: sources and keys, raw events, quarantine, imports, the identity graph,
traits with provenance, orders and merges."""

from .events import Event, QuarantinedRecord
from .identity import Identifier, Profile, ProfileMerge
from .imports import ImportRun
from .sources import Source, WriteKey
from .traits import Order, ProfileTrait, TraitValue

__all__ = [
    "Event",
    "Identifier",
    "ImportRun",
    "Order",
    "Profile",
    "ProfileMerge",
    "ProfileTrait",
    "QuarantinedRecord",
    "Source",
    "TraitValue",
    "WriteKey",
]
