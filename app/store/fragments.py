"""SQL fragments that several queries join: per-grid figures, written once."""

# Join as ``LEFT JOIN (...) n ON n.grid_id = <grid>.id``: current households per grid.
HOUSEHOLDS_PER_GRID = "SELECT grid_id, count(*) AS households FROM household_grid GROUP BY grid_id"

# Join as ``LEFT JOIN (...) w ON w.grid_id = <grid>.id``: active workers' names per grid.
WORKERS_PER_GRID = """
    SELECT wg.grid_id, string_agg(u.display_name, '、' ORDER BY u.display_name) AS names
    FROM worker_grids wg JOIN users u ON u.id = wg.user_id AND u.active
    GROUP BY wg.grid_id
"""
