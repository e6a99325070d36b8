"""The basemap a run folder keeps for its report: written whole or, on a full disk, not at all
with one error naming the file."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO

FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from sim.data.basemap import read_city_outlines
from sim.errors import OutputError
from sim.outputs.basemap import clip_basemap, write_basemap
from sim.outputs.folders import RunFolder

city = read_city_outlines(Path(sys.argv[1]))
basemap = clip_basemap(city, (-74.0155, 40.7164, -73.9776, 40.7453))  # Washington Square
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))
try:
    with RunFolder(Path(sys.argv[2]), "run") as tmp:
        write_basemap(tmp / "basemap.gpkg", basemap)
except OutputError as exc:
    print(exc)
"""


def test_a_disk_that_fills_while_the_basemap_is_written_gives_one_output_error(data_dir, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(data_dir), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.startswith(f"{out}: cannot write results (GDAL cannot write it"), proc
    assert "writing basemap.gpkg); nothing was kept" in proc.stdout
    assert not out.exists()
