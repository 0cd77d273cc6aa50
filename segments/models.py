"""Segments models."""
