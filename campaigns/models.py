"""Campaigns models."""
