"""Synthetic driving scenes (issue 3)."""
