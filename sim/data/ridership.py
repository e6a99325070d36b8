"""MTA subway ridership per station complex, for weighting where protesters come from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.records import read_csv_columns
from sim.errors import DataError

RIDERSHIP_COLUMNS = ["complex_id", "month", "day_group", "ridership"]
DAY_GROUPS = ("total", "weekday", "weekend")
# The data-manifest key of each ridership table (data/sources.toml).
RIDERSHIP_SOURCES = {"2020": "ridership_2020", "2017-2019": "ridership_2017_2019"}
# Default: June 2020, all days. The bundle's Washington Square events run 2020-06-02..06-30
# (sites/protest_sites_nyc.csv); June 2020's own ridership weights the stations as the
# subway was used that month (about a quarter of 2019's riders, residential stations
# weighing more than office districts), where a 2017-2019 baseline would weight Grand
# Central and Times Sq by commuters who were not there. Protests ran on weekdays and
# weekends alike, so all days ("total"). Entries at a complex stand for exits there: the
# files count entries only, and a day's entries and exits at a station roughly balance.
DEFAULT_RIDERSHIP_YEAR = "2020"
DEFAULT_RIDERSHIP_MONTHS = (6,)
DEFAULT_DAY_GROUP = "total"


def read_ridership(path: Path, months: tuple[int, ...], day_group: str) -> dict[str, float]:
    """Riders per station complex (``Complex ID`` as text) summed over ``months``.

    Raises :class:`DataError` naming the file when a column is missing, a ridership value is
    not a number, or no row matches the months and day group.
    """
    frame = read_csv_columns(path, RIDERSHIP_COLUMNS)
    riders = pd.to_numeric(frame["ridership"], errors="coerce")
    month = pd.to_numeric(frame["month"], errors="coerce")
    bad = np.flatnonzero(riders.isna().to_numpy() | (riders.to_numpy() < 0))
    if bad.size:
        raise DataError(
            f"{path}: line {bad[0] + 2}: column 'ridership': bad value "
            f"{frame['ridership'].iloc[bad[0]]!r} (allowed: a number >= 0)"
        )
    pick = month.isin(months).to_numpy() & frame["day_group"].eq(day_group).to_numpy()
    if not pick.any():
        raise DataError(f"{path}: no rows for months {list(months)} and day_group {day_group!r}")
    sums = riders[pick].groupby(frame["complex_id"][pick].str.strip()).sum()
    return {str(k): float(v) for k, v in sums.items()}
