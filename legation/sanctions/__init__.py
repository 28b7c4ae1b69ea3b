"""Sanctions screening service (layer 3): list updates, screening with audit, re-screening."""
