import json

import pytest

from tests.cdp.conftest import database_down  # noqa: F401 (fixture)


@pytest.mark.django_db(transaction=True)
def test_tracking_api_answers_503_with_retry_after_while_the_database_is_down(
    tracking_client,
    database_down,  # noqa: F811
):
    response = tracking_client.post(
        "/v1/batch",
        data=json.dumps({"batch": [{"type": "track", "event": "E", "userId": "u"}]}),
        content_type="application/json",
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "database_unavailable"
