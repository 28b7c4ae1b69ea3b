"""Incident fusion: decide whether a new report's incident is one already known. Pure functions."""
