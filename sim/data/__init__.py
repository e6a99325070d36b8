"""Reading the data bundle: locating and checksumming files, readers of each source, the cache."""
