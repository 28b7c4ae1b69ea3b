"""Threat levels: explainable scores for sites, places and planned appearances. Pure functions."""
