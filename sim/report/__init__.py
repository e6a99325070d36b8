"""The evidence report: a finished run folder read back and written as HTML, PDF and GeoPackage."""
