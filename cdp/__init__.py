"""CDP project package: settings, URLs, the Celery app and the shared core.

The Celery app is loaded by `cdp.core.apps.CoreConfig.ready()`, not here, so that pure modules
(`cdp.core.frames`) can be imported without pulling in Celery or Django.
"""
