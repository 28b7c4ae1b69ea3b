"""Sanctions screening (layer 1): list importers onto FollowTheMoney, matcher and index."""
