"""Campaigns models: definitions (campaigns, variants, content blocks), the send outbox,
experiments (assignments, conversions, result snapshots), audiences and recommendations."""

from .audience import AudienceExport, CampaignMembership, ScheduleRun, TriggerCursor
from .definitions import Campaign, ContentBlock, Variant
from .experiments import Assignment, Conversion, ResultSnapshot
from .outbox import DeadLetter, Send
from .recommendations import Recommendation

__all__ = [
    "Assignment",
    "AudienceExport",
    "Campaign",
    "CampaignMembership",
    "ContentBlock",
    "Conversion",
    "DeadLetter",
    "Recommendation",
    "ResultSnapshot",
    "ScheduleRun",
    "Send",
    "TriggerCursor",
    "Variant",
]
