"""Profiles models: identity resolution — candidate pairs with their score breakdown, resolution
runs (the job row), the blocking keys of live profiles, and configurable survivorship rules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from cdp.core.models import TimeStampedModel


class ResolutionRun(TimeStampedModel):
    """One identity-resolution job: over all profiles, those touched since the last run, or the
    profiles one processed batch touched. The row is its state, progress, trained model
    parameters (JSON, never pickled), counts and blocking statistics."""

    class Mode(models.TextChoices):
        FULL = "full", "All profiles"
        INCREMENTAL = "incremental", "Profiles touched since the last run"
        ARRIVALS = "arrivals", "Profiles of a processed batch"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.FULL)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    stage = models.CharField(max_length=40, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    since = models.DateTimeField(null=True, blank=True)  # incremental: profiles touched after
    profile_ids = models.JSONField(default=list, blank=True)  # arrivals: the batch's profiles
    parameters = models.JSONField(default=dict, blank=True)  # LinkageConfig.to_dict()
    model_params = models.JSONField(default=dict, blank=True)  # ModelParams.to_dict()
    counts = models.JSONField(default=dict, blank=True)
    blocking_stats = models.JSONField(default=list, blank=True)  # one dict per blocking rule
    timings = models.JSONField(default=dict, blank=True)  # seconds per stage
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "mode", "created_at"], name="profiles_resrun_state"),
        ]

    def __str__(self) -> str:
        return f"resolution #{self.pk} {self.mode} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == self.State.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))


class MatchCandidate(TimeStampedModel):
    """A scored pair of profiles: its match probability, the per-field contributions that
    explain it, and what was decided. One row per unordered pair (left < right)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        ACCEPTED = "accepted", "Accepted (merged by a reviewer)"
        REJECTED = "rejected", "Rejected (kept apart)"
        MERGED = "merged", "Merged automatically"

    left = models.ForeignKey("profiles.Profile", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("profiles.Profile", on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField()
    match_weight = models.FloatField(default=0.0)
    # {"<comparison>": {"level": "exact", "weight": 7.1}, ...} plus "names_swapped".
    contributions = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=40, blank=True)
    run = models.ForeignKey(
        ResolutionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merge = models.ForeignKey(
        "profiles.ProfileMerge",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by_label = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-probability", "pk"]
        verbose_name = "match candidate"
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="profiles_match_one_per_pair"),
            models.CheckConstraint(
                condition=Q(left__lt=F("right")), name="profiles_match_left_below_right"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "probability"], name="profiles_match_queue"),
            models.Index(fields=["right"], name="profiles_match_right"),
        ]

    def __str__(self) -> str:
        return f"{self.left_id} ~ {self.right_id} ({self.probability:.3f}, {self.status})"


class MatchKey(models.Model):
    """One blocking key of a live profile (a 64-bit hash of rule name and key value), so new
    records find their candidate profiles with an index lookup instead of a full scan."""

    # No database constraint: millions of rows are rewritten per full run and the deferred
    # foreign-key checks would cost more than the copy; deleting a profile still deletes its
    # keys (CASCADE in the ORM), and lookups join live profiles.
    profile = models.ForeignKey(
        "profiles.Profile", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    key = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["key"], name="profiles_matchkey_key")]

    def __str__(self) -> str:
        return f"{self.profile_id}:{self.key}"


class SurvivorshipRule(TimeStampedModel):
    """How the golden value of one trait is chosen: a rule for the trait (source empty), and
    optionally a trust override for one source's values of that trait."""

    class Rule(models.TextChoices):
        MOST_TRUSTED = "most_trusted", "Most trusted source"
        MOST_RECENT = "most_recent", "Most recent (never over a more trusted source)"
        MOST_FREQUENT = "most_frequent", "Most frequent"
        LONGEST = "longest", "Longest non-empty"

    trait = models.CharField(max_length=100)
    source = models.ForeignKey(
        "profiles.Source", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rule = models.CharField(max_length=20, choices=Rule.choices, blank=True)
    trust = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["trait", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["trait"],
                condition=Q(source__isnull=True),
                name="profiles_survivorship_one_rule_per_trait",
            ),
            models.UniqueConstraint(
                fields=["trait", "source"],
                condition=Q(source__isnull=False),
                name="profiles_survivorship_one_per_trait_source",
            ),
            models.CheckConstraint(
                condition=Q(source__isnull=False) | ~Q(rule=""),
                name="profiles_survivorship_trait_rule_set",
            ),
            models.CheckConstraint(
                condition=Q(source__isnull=True) | Q(trust__isnull=False),
                name="profiles_survivorship_source_trust_set",
            ),
        ]

    def __str__(self) -> str:
        if self.source_id is None:
            return f"{self.trait}: {self.rule}"
        return f"{self.trait} from {self.source_id}: trust {self.trust}"
