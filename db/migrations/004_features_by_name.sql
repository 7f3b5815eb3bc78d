-- schema version 4: no table changes. From this version on, a spymate that opens the database
-- rewrites the stored windows.features by name (meta 'feature_names') when its own feature list
-- differs, as the window features grow (burst_alternation came with it). A spymate of version 3
-- would read new BLOBs under its old names, shifted; the version number makes it refuse instead.
SELECT 1;
