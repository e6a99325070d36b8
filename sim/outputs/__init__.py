"""Writing results: run folders and manifests, tables, GIS layers, figures."""
