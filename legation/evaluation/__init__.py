"""Evaluation against real gold data (MUC-4 and others): parsers, scorers, reports."""
