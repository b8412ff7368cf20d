"""SQL fragments that several queries join: per-grid figures, written once."""

# Join as ``LEFT JOIN (...) n ON n.grid_id = <grid>.id``: current households per grid, as the
# database keeps them (grid_counts, migration 0004) rather than counted from every assignment.
HOUSEHOLDS_PER_GRID = "SELECT grid_id, households FROM grid_counts"

# Join as ``LEFT JOIN (...) w ON w.grid_id = <grid>.id``: active workers' names per grid.
WORKERS_PER_GRID = """
    SELECT wg.grid_id, string_agg(u.display_name, '、' ORDER BY u.display_name) AS names
    FROM worker_grids wg JOIN users u ON u.id = wg.user_id AND u.active
    GROUP BY wg.grid_id
"""


def geojson(expression: str, decimals: int = 7) -> str:
    """SQL for ``expression`` as GeoJSON text the way RFC 7946 writes it: exterior rings
    counter-clockwise, holes clockwise (§3.1.6), at most ``decimals`` decimals (7: 1 cm).

    Append ``::json`` to nest it in a ``json_build_object``. The Python side is
    ``geo.geojson``.
    """
    return f"ST_AsGeoJSON(ST_ForcePolygonCCW({expression}), {int(decimals)})"


def rounded(expression: str, decimals: int = 7) -> str:
    """SQL for a coordinate (``ST_X(geom)``) rounded to ``decimals`` (7: 1 cm), as a float."""
    return f"round(({expression})::numeric, {int(decimals)})::float8"


def touches_box(column: str) -> str:
    """SQL: ``column`` intersects the box ``:x0, :y0, :x1, :y1`` (4326), not merely its
    envelope does (what ``&&`` alone tests). ST_Intersects uses the spatial index itself."""
    return f"ST_Intersects({column}, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"
