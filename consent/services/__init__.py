"""Consent services: the only code that changes consent and privacy state."""
