"""The one schema of output columns: every column of the agent table, its unit and meaning.

The agent table (``agents.csv``), the summaries (``summary.json``), the printed headline and
the comparison table all read this list, so a column is named, ordered and described once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of the agent table.

    ``unit`` is the stored unit; ``show_unit`` and ``scale`` say how a reader sees it
    (stored value / scale, in show_unit). ``summarised`` columns get mean, median, p10, p90 and
    max in ``summary.json``; ``headline`` orders the figures printed after a run (0: not shown).
    ``label`` heads the run's printout, where ``headline_stat`` is the statistic printed (the
    median, but the mean of a value that is either 0 or a whole stay); ``short`` names it
    where the context says the rest (a comparison's rows and panels).
    """

    name: str
    unit: str
    meaning: str
    summarised: bool = False
    label: str = ""
    show_unit: str = ""
    scale: float = 1.0
    headline: int = 0
    short: str = ""
    headline_stat: str = "median"


AGENT_COLUMNS: tuple[Column, ...] = (
    Column("replication", "", "replication index (0-based)"),
    Column("seed", "", "the run's seed (entropy of the replication's SeedSequence)"),
    Column("agent_id", "", "protester index within the replication"),
    Column("origin_exit", "", "subway exit id the protester starts from"),
    Column("station", "", "station of that exit"),
    Column("site", "", "assembly site id"),
    Column("status", "", "done, at_site, walking, not_departed or no_route at the end"),
    Column("reason", "", "why a protester did not walk (no_route), else empty"),
    Column("depart_s", "s", "time the protester leaves the exit"),
    Column("arrive_s", "s", "time of arrival at the site"),
    Column("leave_s", "s", "time of leaving the site"),
    Column("end_s", "s", "time of reaching the exit again"),
    Column("speed_mps", "m/s", "free walking speed"),
    Column("route_m", "m", "length of the route to the site"),
    Column("walk_m", "m", "metres walked (all legs)", summarised=True),
    Column("walk_s", "s", "seconds walking (all legs)", summarised=True),
    Column("dwell_s", "s", "seconds at the site"),
    Column(
        "seen_walk_s",
        "s",
        "seconds in view of at least one camera while walking",
        summarised=True,
        label="walking: minutes in view of a camera",
        show_unit="min",
        scale=60.0,
        headline=1,
        short="minutes in view while walking",
    ),
    Column(
        "seen_dwell_s",
        "s",
        "seconds in view of at least one camera at the site",
        summarised=True,
        label="at the site: mean minutes in view while standing",
        show_unit="min",
        scale=60.0,
        headline=5,
        short="minutes in view at the site",
        headline_stat="mean",
    ),
    Column(
        "seen_total_s",
        "s",
        "seconds in view, walking and at the site",
        summarised=True,
        label="walk + site, added: minutes in view",
        show_unit="min",
        scale=60.0,
        headline=6,
        short="minutes in view, walk + site",
    ),
    Column("seen_public_walk_s", "s", "seconds in view of public cameras while walking", True),
    Column(
        "share_surveilled",
        "share",
        "share of the walk's length in view of any camera",
        summarised=True,
        label="walking: % of the walk in view of a camera",
        show_unit="%",
        scale=0.01,
        headline=2,
        short="% of the walk in view of a camera",
    ),
    Column(
        "share_surveilled_public",
        "share",
        "share of the walk's length within reach of public cameras",
        summarised=True,
        label="walking: % of the walk within reach of public cameras",
        show_unit="%",
        scale=0.01,
        headline=3,
        short="% of the walk within reach of public cameras",
    ),
    Column(
        "camera_s",
        "s",
        "camera-seconds: seconds in view times the cameras in view (walk + site)",
        summarised=True,
        label="walk + site, added: camera-minutes of footage",
        show_unit="camera-min",
        scale=60.0,
        headline=7,
        short="camera-minutes of footage",
    ),
    Column(
        "recognition_s",
        "s",
        "seconds at face-recognition quality (walk + site)",
        summarised=True,
        label="walk + site, added: minutes at recognition quality",
        show_unit="min",
        scale=60.0,
        headline=8,
    ),
    Column("identification_s", "s", "seconds at identification quality", summarised=True),
    Column(
        "distinct_cameras",
        "count",
        "distinct camera sites that saw the protester",
        summarised=True,
        label="distinct camera sites seen (walk and site)",
        show_unit="sites",
        headline=9,
    ),
    Column("distinct_public_cameras", "count", "distinct public camera sites", summarised=True),
    Column("first_exposure_s", "s", "time of first being in view (NaN: never)"),
    Column(
        "first_exposure_after_depart_s",
        "s",
        "seconds from leaving the exit to first being in view (NaN: never)",
        summarised=True,
        label="walking: minutes from the exit to first in view",
        show_unit="min",
        scale=60.0,
        headline=4,
    ),
)

BY_NAME = {c.name: c for c in AGENT_COLUMNS}

# The crowd's figures that are no column's statistic (``sim.crowd.stats.crowd_figures``),
# described like columns so that every reader names and scales them alike.
CROWD_FIGURES: tuple[Column, ...] = (
    Column(
        "share_seen_at_all",
        "share",
        "share of protesters in view of at least one camera, walking or at the site",
        label="% of protesters seen at all",
        show_unit="%",
        scale=0.01,
        short="% of protesters seen at all",
    ),
    Column(
        "share_whole_walk_surveilled",
        "share",
        "share of protesters whose whole walk was in view of a camera",
        label="% of protesters in view for their whole walk",
        show_unit="%",
        scale=0.01,
        short="% of protesters in view for their whole walk",
    ),
    Column(
        "share_never_seen_standing",
        "share",
        "of the protesters who stood at the site, the share no camera saw there",
        label="at the site: % of protesters never in view",
        show_unit="%",
        scale=0.01,
        short="% never in view at the site",
    ),
)


def agent_column_names() -> list[str]:
    """The agent table's columns, in order."""
    return [c.name for c in AGENT_COLUMNS]


def summarised_names() -> list[str]:
    """The columns ``summary.json`` summarises."""
    return [c.name for c in AGENT_COLUMNS if c.summarised]


def headline() -> list[Column]:
    """The columns printed after a run, in order."""
    return sorted((c for c in AGENT_COLUMNS if c.headline), key=lambda c: c.headline)


STATISTICS = ("mean", "median", "p10", "p90", "max")
"""The statistics of each summarised column a run reports, in order."""


def figure_names() -> tuple[str, ...]:
    """The names of the figures ``sim.crowd.stats.crowd_figures`` gives, in its order."""
    stats = (f"{m}.{s}" for m in summarised_names() for s in STATISTICS)
    return (*stats, *(c.name for c in CROWD_FIGURES))


def column(name: str) -> Column:
    """The agent-table column called ``name``."""
    return next(c for c in AGENT_COLUMNS if c.name == name)


def figure_column(figure: str) -> Column:
    """The column (or crowd figure) a figure of ``summary.json`` describes: ``"camera_s.median"``
    is a statistic of ``camera_s``, ``"share_seen_at_all"`` a crowd figure."""
    crowd = {c.name: c for c in CROWD_FIGURES}
    if figure in crowd:
        return crowd[figure]
    return column(figure.rsplit(".", 1)[0])
