"""The evidence report: a finished run folder read back and written as HTML, PDF and GeoPackage."""

# Paper a report's PDF may be laid out on (``--paper``): CSS page size and the words its last
# page gives. US letter, the city's paper, by default.
PAPERS = {"letter": ("letter", "US letter"), "a4": ("A4", "A4")}
DEFAULT_PAPER = "letter"
