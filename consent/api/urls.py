"""URL map of the consent API (/api/consent/)."""

from __future__ import annotations

from django.urls import path

from . import ledger, requests

app_name = "consent"
_REQUEST = "requests/<int:request_id>/"
urlpatterns = [
    path("purposes/", ledger.PurposeListApi.as_view(), name="purpose-list"),
    path("grant", ledger.ConsentGrantApi.as_view(), name="consent-grant"),
    path("withdraw", ledger.ConsentWithdrawApi.as_view(), name="consent-withdraw"),
    path("people/<int:profile_id>/", ledger.ConsentPersonApi.as_view(), name="consent-person"),
    path("requests/", requests.DsrListCreateApi.as_view(), name="dsr-list"),
    path(_REQUEST, requests.DsrDetailApi.as_view(), name="dsr-detail"),
    path(f"{_REQUEST}verification/send", requests.DsrCodeSendApi.as_view(), name="dsr-code-send"),
    path(
        f"{_REQUEST}verification/confirm",
        requests.DsrCodeConfirmApi.as_view(),
        name="dsr-code-confirm",
    ),
    path(f"{_REQUEST}verify", requests.DsrVerifyManuallyApi.as_view(), name="dsr-verify"),
    path(f"{_REQUEST}extend", requests.DsrExtendApi.as_view(), name="dsr-extend"),
    path(f"{_REQUEST}reject", requests.DsrRejectApi.as_view(), name="dsr-reject"),
    path(f"{_REQUEST}execute", requests.DsrExecuteApi.as_view(), name="dsr-execute"),
    path(f"{_REQUEST}archive", requests.DsrArchiveApi.as_view(), name="dsr-archive"),
    path(f"{_REQUEST}report", requests.DsrReportApi.as_view(), name="dsr-report"),
    path("archive/<str:token>", requests.DsrArchiveLinkApi.as_view(), name="dsr-archive-link"),
]
