"""Core kernel: what each role's home page links to (title, URL name, what it is for)."""

from __future__ import annotations

from dataclasses import dataclass

from .roles import INTEGRATION_ADMIN, MARKETER, PRIVACY_OFFICER


@dataclass(frozen=True, kw_only=True)
class HomeLink:
    title: str
    url_name: str
    description: str


HOME_LINKS: dict[str, tuple[HomeLink, ...]] = {
    MARKETER: (
        HomeLink(
            title="Segments",
            url_name="admin:segments_segment_changelist",
            description="Rule, RFM, cluster and predictive audiences with live sizes",
        ),
        HomeLink(
            title="Segment builder",
            url_name="admin:segments_segment_builder",
            description="Compose a rule tree and watch its count change",
        ),
        HomeLink(
            title="Clustering runs",
            url_name="admin:segments_modelrun_changelist",
            description="Discover groups, read elbow and silhouette charts",
        ),
        HomeLink(
            title="Campaigns",
            url_name="admin:campaigns_campaign_changelist",
            description="Triggers, channels, A/B/n variants, holdout and results",
        ),
        HomeLink(
            title="Profiles",
            url_name="admin:profiles_profile_changelist",
            description="Customers (identifiers masked for your role)",
        ),
    ),
    PRIVACY_OFFICER: (
        HomeLink(
            title="Data-subject requests",
            url_name="admin:consent_datasubjectrequest_queue",
            description="The queue ordered by deadline, overdue flagged",
        ),
        HomeLink(
            title="Consent ledger",
            url_name="admin:consent_consentevent_changelist",
            description="Every grant and withdrawal, per person and purpose",
        ),
        HomeLink(
            title="Purposes",
            url_name="admin:consent_purpose_changelist",
            description="Purposes, legal bases and the channels they cover",
        ),
        HomeLink(
            title="Audit log",
            url_name="admin:core_auditevent_changelist",
            description="Who viewed or changed personal data, filterable and exportable",
        ),
        HomeLink(
            title="Profiles",
            url_name="admin:profiles_profile_changelist",
            description="Find a person by any identifier",
        ),
    ),
    INTEGRATION_ADMIN: (
        HomeLink(
            title="Sources and write keys",
            url_name="admin:profiles_source_changelist",
            description="Create sources, rotate and revoke keys",
        ),
        HomeLink(
            title="File imports",
            url_name="admin:profiles_importrun_changelist",
            description="Upload CRM, order and event files, map columns, watch progress",
        ),
        HomeLink(
            title="Quarantine",
            url_name="admin:profiles_quarantinedrecord_changelist",
            description="Rejected records: read, fix and replay",
        ),
        HomeLink(
            title="Merge review",
            url_name="admin:profiles_matchcandidate_changelist",
            description="Doubtful identity matches to accept or reject",
        ),
        HomeLink(
            title="API documentation",
            url_name="api-docs",
            description="OpenAPI schema and interactive docs",
        ),
        HomeLink(
            title="Profiles",
            url_name="admin:profiles_profile_changelist",
            description="Find a person by any identifier, read their timeline",
        ),
    ),
}
