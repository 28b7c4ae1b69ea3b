"""Legation: protective intelligence for sites and people abroad."""

__version__ = "0.1.0"
