"""Pure geometry for Wangge: coordinate systems, validation, assignment, coverage, partitions.

Every module works on shapely 2 geometries, numpy arrays and pyproj objects only; nothing here
knows about the web layer or the database. Import the submodules directly
(``from geo.crs import to_wgs84``); this package module stays empty so that ``import geo`` is
cheap.
"""
