"""Great-circle distance and bounding boxes."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing a circle; wide near the poles."""
    dlat = radius_km / 111.0
    dlon = radius_km / max(1.0, 111.0 * math.cos(math.radians(lat)))
    return lat - dlat, lat + dlat, max(-180.0, lon - dlon), min(180.0, lon + dlon)


def covering_boxes(
    points: list[tuple[float, float]], radius_km: float, cell_degrees: float = 5.0
) -> list[tuple[float, float, float, float]]:
    """A few boxes that together cover every circle of ``radius_km`` around the points.

    Points are grouped by grid cell so a batch of nearby incidents costs one range query.
    """
    cells: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for lat, lon in points:
        cells.setdefault(
            (math.floor(lat / cell_degrees), math.floor(lon / cell_degrees)), []
        ).append((lat, lon))
    boxes = []
    for members in cells.values():
        corners = [bounding_box(lat, lon, radius_km) for lat, lon in members]
        boxes.append(
            (
                min(c[0] for c in corners),
                max(c[1] for c in corners),
                min(c[2] for c in corners),
                max(c[3] for c in corners),
            )
        )
    return boxes
