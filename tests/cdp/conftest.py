from django.db import connection

import pytest


@pytest.fixture
def database_down():
    """Point the connection at a database that cannot be reached, then restore it."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-dir/cdp.sqlite3"
    else:
        connection.settings_dict["PORT"] = "1"
        connection.settings_dict["HOST"] = "127.0.0.1"
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)
