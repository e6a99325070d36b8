"""Where a run's assembly site stands among the protest sites: Amnesty's tract method around
each site (surveillance per 1,000 residents and non-white share within 500 m and 1 km), as the
run kept it in its folder (``site_neighbourhoods.csv``, computed when the run was written)."""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from sim.outputs.report_inputs import NEIGHBOURHOOD_FILE


def _tag(file: str, key: str, value: float, decimals: int) -> str:
    from sim.report.text import tagged

    return tagged(file, key, value, decimals)


def neighbourhood_section(table: pd.DataFrame, site_id: str, prefix: str = "") -> str:
    """The report section: every site ranked by surveillance within 500 m, this one marked;
    figures tagged with the table's file, ``prefix`` being its run folder relative to the
    report (a comparison's first run)."""
    file = prefix + NEIGHBOURHOOD_FILE
    rows = []
    for r in table.itertuples(index=False):
        mark = " class='this-site'" if r.site_id == site_id else ""
        rank = _tag(file, f"site={r.site_id}/rank_500m", r.rank_500m, 0)
        cells = [f"<td class='num'>{rank}</td>"]
        cells.append(f"<td>{escape(str(r.name))}{' (this run)' if mark else ''}</td>")
        for column, decimals, scale in (
            ("surveillance_per_1000_500m", 2, 1.0),
            ("nonwhite_fraction_500m", 0, 100.0),
            ("surveillance_per_1000_1000m", 2, 1.0),
            ("nonwhite_fraction_1000m", 0, 100.0),
        ):
            value = getattr(r, column)
            shown = (
                _tag(file, f"site={r.site_id}/{column}", value * scale, decimals)
                if np.isfinite(value)
                else "n/a"
            )
            cells.append(f"<td class='num'>{shown}</td>")
        rows.append(f"<tr{mark}>" + "".join(cells) + "</tr>")
    here = table[table["site_id"] == site_id]
    if len(here):
        r = here.iloc[0]
        lead = (
            f"<p>Within 500 m of this run's site, <b>{escape(str(r['name']))}</b>, there are "
            f"{_tag(file, f'site={site_id}/surveillance_per_1000_500m', r['surveillance_per_1000_500m'], 2)} "  # noqa: E501
            "effective public cameras per 1,000 residents; it ranks "
            f"{_tag(file, f'site={site_id}/rank_500m', r['rank_500m'], 0)} of "
            f"{len(table)} protest sites of 2020 (1 is the most surveilled).</p>"
        )
    else:
        lead = "<p>This run's site is not one of the bundle's protest sites.</p>"
    return (
        "<section id='neighbourhood'><h2>Where the site stands</h2>"
        + lead
        + "<table class='neighbourhood'><thead><tr><th>rank (500 m)</th><th>site</th>"
        "<th>cameras per 1,000 residents, 500 m</th><th>% non-white, 500 m</th>"
        "<th>cameras per 1,000 residents, 1 km</th><th>% non-white, 1 km</th></tr></thead>"
        "<tbody>" + "".join(rows) + "</tbody></table>"
        "<p class='caption'>Amnesty's tract method (Decode Surveillance NYC, section 2.4) "
        "around each site: effective cameras = land area within 120 m of a public "
        "street-furniture camera site / (pi x 120 m x 120 m); residents and race from the 2020 "
        "census, spread evenly over each tract's land; non-white = (Black + Hispanic) / "
        "(Black + Hispanic + White). Midtown ranks high partly because few people live there. "
        f"File <code>{escape(file)}</code>; <code>run_sim.py equity</code> gives the "
        "whole city.</p></section>"
    )
