"""Profiles models: sources and keys, raw events, quarantine, imports, the identity graph,
traits with provenance, orders and merges, computed traits and the catalogue of names seen,
identity resolution (match candidates, runs, keys, survivorship rules), tracking plans and
data-quality reports."""

from .computed import CatalogueEntry, ComputedTraits
from .events import Event, QuarantinedRecord
from .identity import Identifier, Profile, ProfileMerge
from .imports import ImportRun
from .matching import MatchCandidate, MatchKey, ResolutionRun, SurvivorshipRule
from .sources import Source, WriteKey
from .tracking import QualityReport, TrackingPlan, TrackingViolation
from .traits import Order, ProfileTrait, TraitValue

__all__ = [
    "CatalogueEntry",
    "ComputedTraits",
    "Event",
    "Identifier",
    "ImportRun",
    "MatchCandidate",
    "MatchKey",
    "Order",
    "Profile",
    "ProfileMerge",
    "ProfileTrait",
    "QualityReport",
    "QuarantinedRecord",
    "ResolutionRun",
    "Source",
    "SurvivorshipRule",
    "TrackingPlan",
    "TrackingViolation",
    "TraitValue",
    "WriteKey",
]
