"""URL map of the campaigns API (/api/campaigns/)."""

from __future__ import annotations

from django.urls import path

from . import views, views_insights

app_name = "campaigns"
urlpatterns = [
    path("", views.CampaignListCreateApi.as_view(), name="campaign-list"),
    path("<int:campaign_id>/", views.CampaignDetailApi.as_view(), name="campaign-detail"),
    path("<int:campaign_id>/launch", views.CampaignLaunchApi.as_view(), name="campaign-launch"),
    path("<int:campaign_id>/pause", views.CampaignPauseApi.as_view(), name="campaign-pause"),
    path("<int:campaign_id>/resume", views.CampaignResumeApi.as_view(), name="campaign-resume"),
    path("<int:campaign_id>/end", views.CampaignEndApi.as_view(), name="campaign-end"),
    path(
        "<int:campaign_id>/preview",
        views_insights.CampaignPreviewApi.as_view(),
        name="campaign-preview",
    ),
    path(
        "<int:campaign_id>/dry-run",
        views_insights.CampaignDryRunApi.as_view(),
        name="campaign-dry-run",
    ),
    path(
        "<int:campaign_id>/results",
        views_insights.CampaignResultsApi.as_view(),
        name="campaign-results",
    ),
    path(
        "<int:campaign_id>/sends", views_insights.CampaignSendsApi.as_view(), name="campaign-sends"
    ),
    path(
        "<int:campaign_id>/export",
        views_insights.AudienceExportApi.as_view(),
        name="campaign-export",
    ),
    path("dead-letters/", views_insights.DeadLetterListApi.as_view(), name="dead-letter-list"),
    path(
        "dead-letters/retry",
        views_insights.DeadLetterRetryApi.as_view(),
        name="dead-letter-retry",
    ),
    path(
        "content-blocks/",
        views_insights.ContentBlockListSaveApi.as_view(),
        name="content-block-list",
    ),
]
