"""Profiles services: the only code that changes profiles state."""
