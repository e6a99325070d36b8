"""City Council districts as arrays: number, outline in metres, borough; which holds a point.

The outlines are the NYC Districting Commission's, clipped to the shoreline (as the City
publishes them): a point on a pier, a bridge or in the water lies in no district. Two districts
share only their boundary; a point exactly on it is given to the lower-numbered district, so
that every point lies in one district or in none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

# The City Council has 51 districts, numbered 1 to 51, under both the 2013 and 2023 lines.
DISTRICT_COUNT = 51
# The district lines a command may use: the 2023 redistricting (in force from the 2023
# elections) and the 2013 lines (in force during the 2020 protests).
LINES = (2023, 2013)
DEFAULT_LINES = 2023


@dataclass(frozen=True)
class Districts:
    """The 51 council districts of one set of lines, in order of their number."""

    lines: int
    number: np.ndarray  # int, 1..51
    geom: np.ndarray  # shapely (multi)polygons, UTM 18N metres
    borough: np.ndarray  # the borough holding most of each district's land
    borough_share: np.ndarray  # that borough's share of the district's land, 0..1
    boroughs: np.ndarray  # every borough a district reaches, ", "-joined, largest first

    def __len__(self) -> int:
        return len(self.number)

    def index_of(self, number: int) -> int:
        """The row of district ``number``; ValueError when there is none."""
        hit = np.flatnonzero(self.number == number)
        if hit.size != 1:
            raise ValueError(f"no council district {number}")
        return int(hit[0])

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The row of the district holding each point (-1: in none: water, a pier, a bridge,
        another state). A point on a shared boundary goes to the lower-numbered district."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        out = np.full(len(x), -1, np.int64)
        if len(x) == 0:
            return out
        tree = shapely.STRtree(self.geom)
        pt, dist = tree.query(shapely.points(np.c_[x, y]), predicate="intersects")
        order = np.lexsort((self.number[dist], pt))  # per point, lowest district number first
        pt, dist = pt[order], dist[order]
        first = np.r_[True, pt[1:] != pt[:-1]] if len(pt) else np.zeros(0, bool)
        out[pt[first]] = dist[first]
        return out


def borough_split(
    geom: np.ndarray, borough_names: np.ndarray, borough_geom: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each district outline: the borough holding most of it, that borough's share of its
    area, and every borough it reaches (more than 0.5% of its area), largest first."""
    areas = np.array(
        [[shapely.area(shapely.intersection(g, b)) for b in borough_geom] for g in geom]
    )
    total = shapely.area(geom)
    main, share, every = [], [], []
    for k in range(len(geom)):
        order = np.argsort(-areas[k], kind="stable")
        frac = areas[k] / total[k] if total[k] > 0 else np.zeros(len(borough_geom))
        main.append(str(borough_names[order[0]]))
        share.append(float(frac[order[0]]))
        every.append(", ".join(str(borough_names[i]) for i in order if frac[i] > 0.005))
    return (
        np.array(main, dtype=object),
        np.array(share, float),
        np.array(every, dtype=object),
    )
