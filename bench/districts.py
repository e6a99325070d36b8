"""The districts command as a user runs it: all 51 council districts, timed, its output checked.

    python bench/districts.py              # about 1.5 minutes on 2 cores
    python bench/districts.py --lines 2013

Runs ``run_sim.py districts`` in a fresh child process (as a user does: imports, reading the
bundle, the walk network and the coverage from the cache when warm) and reports the wall time,
the child's CPU time (its own and its children's; other load on the machine stretches the wall
time, not this) and peak memory, with the phases the run's manifest records (boundaries,
cameras, tracts, walks, pages). Then checks what it wrote: 51 rows in ``districts.csv``, 51
PDFs each one US letter page, 51 PNGs of 1920 x 1080 pixels. The target is the issue's: the
whole command in under two minutes on this project's 2-core machine.
Writes ``outputs/bench/districts-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

TARGET_S = 120.0


def check(folder: Path) -> dict[str, object]:
    """What a full run must hold: 51 rows, 51 one-page letter PDFs, 51 slide PNGs."""
    import pandas as pd
    import pypdf
    from PIL import Image

    table = pd.read_csv(folder / "districts.csv")
    pdfs = sorted(folder.glob("district_*.pdf"))
    pngs = sorted(folder.glob("district_*.png"))
    pages = [len(pypdf.PdfReader(p).pages) for p in pdfs]
    sizes = {
        (round(float(b.width)), round(float(b.height)))
        for p in pdfs
        for b in [pypdf.PdfReader(p).pages[0].mediabox]
    }
    shapes = {Image.open(p).size for p in pngs}
    return {
        "rows": len(table),
        "pdfs": len(pdfs),
        "pdfs_of_one_page": sum(n == 1 for n in pages),
        "pdf_sizes_pt": sorted(sizes),
        "pngs": len(pngs),
        "png_sizes_px": sorted(shapes),
        "ok": len(table) == 51
        and len(pdfs) == 51
        and all(n == 1 for n in pages)
        and sizes == {(612, 792)}
        and len(pngs) == 51,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", default="2023", choices=["2023", "2013"])
    args = parser.parse_args()
    from machine import machine_info

    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        command = [
            sys.executable,
            str(REPO / "run_sim.py"),
            "--outputs",
            tmp,
            "-q",
            "districts",
            "--lines",
            args.lines,
        ]
        subprocess.run(command, check=True, cwd=REPO)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        (folder,) = (Path(tmp) / "districts").iterdir()
        manifest = json.loads((folder / "manifest.json").read_text())
        checked = check(folder)
    result = {
        "command": " ".join(["run_sim.py", *command[2:]]),
        "wall_s": round(wall, 1),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 0),
        "phases_s": manifest["timings_s"],
        "target_s": TARGET_S,
        "within_target": wall < TARGET_S,
        "output": checked,
        "machine": machine_info(),
    }
    print(
        f"districts --lines {args.lines}: {result['wall_s']} s wall, {result['cpu_s']} s CPU, "
        f"peak {result['peak_rss_mb']:.0f} MB (target < {TARGET_S:.0f} s: "
        f"{'met' if result['within_target'] else 'MISSED'})"
    )
    print("phases (s): " + ", ".join(f"{k} {v}" for k, v in result["phases_s"].items()))
    print(
        f"output: {checked['rows']} rows, {checked['pdfs_of_one_page']} of {checked['pdfs']} "
        f"PDFs on one page {checked['pdf_sizes_pt']}, {checked['pngs']} PNGs "
        f"{checked['png_sizes_px']}: {'ok' if checked['ok'] else 'NOT OK'}"
    )
    out = REPO / "outputs" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"districts-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {path}")
    return 0 if checked["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
