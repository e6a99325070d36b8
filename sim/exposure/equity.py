"""Surveillance and race per census tract: Amnesty's effective cameras and borough logit.

Decode Surveillance NYC methodology, section 2.4 (and Amnesty's ``analysis/prepdata.R``):
census tracts clipped to land; "effective cameras" of a tract = area of the tract covered by
the union of 120 m disks around public (street-furniture) camera sites / (pi * 120^2);
surveillance level = effective cameras per 1,000 residents, for tracts of more than 250
residents; non-white fraction = (Black + Hispanic) / (Black + Hispanic + White); per borough,
a logistic model ``P(surveillance > 0.2) ~ 0 + borough + borough:nonwhite_fraction``.

Geometry is in metres (UTM 18N); inputs are arrays of shapely geometries and counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

# Amnesty's face-capture reach of a public camera (prepdata.R: CAMERA_RADIUS <- 120 m).
CAMERA_RADIUS_M = 120.0
# sf::st_buffer's default of 30 segments per quarter circle, as in Amnesty's R code.
BUFFER_QUAD_SEGS = 30
# Methodology 2.4: tracts with 250 residents or fewer are left out of the model.
MIN_RESIDENTS = 250
# Methodology 2.4: a tract is "highly surveilled" above 0.2 effective cameras per 1,000 residents.
SURVEILLANCE_THRESHOLD = 0.2
# Neighbourhoods of a protest site, metres.
SITE_RADII_M = (500.0, 1000.0)


@dataclass(frozen=True)
class TractCounts:
    """Census tracts as arrays: land geometry (metres), borough, residents by race/ethnicity."""

    geoid: np.ndarray
    borough: np.ndarray
    geom: np.ndarray  # shapely polygons, UTM 18N
    population: np.ndarray
    hispanic: np.ndarray
    white: np.ndarray  # non-Hispanic White
    black: np.ndarray  # non-Hispanic Black

    def __len__(self) -> int:
        return len(self.geoid)


def clip_to_land(geoms: np.ndarray, land: shapely.Geometry) -> np.ndarray:
    """Each geometry intersected with ``land`` (an empty polygon where none is on land).

    ``land`` is first cut to the geometries' bounding box and split into its parts, so a
    state-wide shoreline costs no more than the city's share of it.
    """
    if len(geoms) == 0:
        return np.zeros(0, dtype=object)
    box = shapely.box(*shapely.total_bounds(geoms))
    parts = shapely.get_parts(shapely.intersection(land, box))
    parts = parts[~shapely.is_empty(parts)]
    geom_idx, part_idx = shapely.STRtree(parts).query(geoms, predicate="intersects")
    pieces = shapely.intersection(geoms[geom_idx], parts[part_idx])
    out = np.full(len(geoms), shapely.Polygon(), dtype=object)
    for i in np.unique(geom_idx):
        mine = pieces[geom_idx == i]
        merged = shapely.union_all(mine) if len(mine) > 1 else mine[0]
        # keep areas only: a tract touching land along a line gives a line, not land
        polys = [p for p in shapely.get_parts(merged) if p.geom_type == "Polygon" and p.area > 0]
        if polys:
            out[i] = shapely.multipolygons(polys) if len(polys) > 1 else polys[0]
    return out


def coverage_parts(xy: np.ndarray, radius_m: float = CAMERA_RADIUS_M) -> np.ndarray:
    """The union of ``radius_m`` disks around camera sites ``xy``, as disjoint polygons."""
    if len(xy) == 0:
        return np.zeros(0, dtype=object)
    disks = shapely.buffer(shapely.points(xy), radius_m, quad_segs=BUFFER_QUAD_SEGS)
    return shapely.get_parts(shapely.union_all(disks))


def covered_area_m2(areas: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Area of each of ``areas`` inside the coverage ``parts`` (disjoint polygons), m2."""
    out = np.zeros(len(areas))
    if len(areas) == 0 or len(parts) == 0:
        return out
    a, p = shapely.STRtree(parts).query(areas, predicate="intersects")
    np.add.at(out, a, shapely.area(shapely.intersection(areas[a], parts[p])))
    return out


def effective_cameras(
    areas: np.ndarray, parts: np.ndarray, radius_m: float = CAMERA_RADIUS_M
) -> np.ndarray:
    """Amnesty's effective cameras: covered area / (pi * radius^2) for each area."""
    return covered_area_m2(areas, parts) / (np.pi * radius_m**2)


def nonwhite_fraction(black: np.ndarray, hispanic: np.ndarray, white: np.ndarray) -> np.ndarray:
    """(Black + Hispanic) / (Black + Hispanic + White); NaN where all three are zero."""
    num = np.asarray(black, float) + np.asarray(hispanic, float)
    den = num + np.asarray(white, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def tract_table(tracts: TractCounts, parts: np.ndarray) -> pd.DataFrame:
    """One row per tract: land area, effective cameras, surveillance level, non-white share.

    ``in_model`` marks tracts with more than :data:`MIN_RESIDENTS` residents and a defined
    non-white fraction; ``highly_surveilled`` is surveillance > :data:`SURVEILLANCE_THRESHOLD`.
    """
    eff = effective_cameras(tracts.geom, parts)
    pop = tracts.population.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where(pop > 0, eff / pop * 1000.0, np.nan)
    nonwhite = nonwhite_fraction(tracts.black, tracts.hispanic, tracts.white)
    in_model = (pop > MIN_RESIDENTS) & np.isfinite(nonwhite)
    return pd.DataFrame(
        {
            "geoid": tracts.geoid,
            "borough": tracts.borough,
            "population": tracts.population,
            "land_area_m2": shapely.area(tracts.geom),
            "effective_cameras": eff,
            "surveillance_per_1000": level,
            "nonwhite_fraction": nonwhite,
            "in_model": in_model,
            "highly_surveilled": in_model & (level > SURVEILLANCE_THRESHOLD),
        }
    )


def design_matrix(borough: np.ndarray, nonwhite: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Columns of ``0 + borough + borough:nonwhite_fraction`` and their names."""
    names = sorted(set(borough.tolist()))
    dummies = np.column_stack([(borough == b).astype(float) for b in names])
    columns = np.column_stack([dummies, dummies * nonwhite[:, None]])
    labels = [f"borough[{b}]" for b in names] + [f"borough[{b}]:nonwhite_fraction" for b in names]
    return columns, labels


def fit_borough_logit(table: pd.DataFrame) -> pd.DataFrame:
    """Logistic model of ``highly_surveilled`` on borough and borough x non-white fraction.

    Fitted by maximum likelihood (statsmodels ``Logit``) on the ``in_model`` tracts. One row
    per borough: intercept and non-white slope with standard errors and p-values (Wald), the
    tracts used and how many are highly surveilled.
    """
    import statsmodels.api as sm

    used = table[table["in_model"]]
    boroughs = used["borough"].to_numpy(dtype=object)
    x, labels = design_matrix(boroughs, used["nonwhite_fraction"].to_numpy(float))
    y = used["highly_surveilled"].to_numpy(float)
    result = sm.Logit(y, x).fit(disp=0, maxiter=200)
    params = pd.Series(result.params, index=labels)
    bse = pd.Series(result.bse, index=labels)
    pvalues = pd.Series(result.pvalues, index=labels)
    rows = []
    for b in sorted(set(boroughs.tolist())):
        i, s = f"borough[{b}]", f"borough[{b}]:nonwhite_fraction"
        mine = boroughs == b
        rows.append(
            {
                "borough": b,
                "intercept": params[i],
                "intercept_se": bse[i],
                "intercept_p": pvalues[i],
                "nonwhite_coef": params[s],
                "nonwhite_se": bse[s],
                "nonwhite_p": pvalues[s],
                "tracts": int(mine.sum()),
                "highly_surveilled": int(y[mine].sum()),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["converged"] = bool(result.mle_retvals.get("converged", True))
    out.attrs["n"] = int(len(y))
    out.attrs["log_likelihood"] = float(result.llf)
    return out


def fitted_probability(intercept: float, slope: float, nonwhite: np.ndarray) -> np.ndarray:
    """The model's P(surveillance > threshold) at each non-white fraction."""
    return 1.0 / (1.0 + np.exp(-(intercept + slope * np.asarray(nonwhite, float))))


def area_measures(areas: np.ndarray, tracts: TractCounts, parts: np.ndarray) -> pd.DataFrame:
    """Residents, effective cameras, surveillance level and non-white share of each of
    ``areas`` (polygons in metres: a disk around a site, a council district), one row each.

    Residents are spread evenly over each tract's land (areal interpolation): an area holds
    the share of a tract's residents that it holds of the tract's land, so a tract cut by the
    area's edge is weighted by the part inside it. Effective cameras are counted on the area's
    land only (its parts inside the land-clipped tracts). ``land_area_m2`` is that land.
    """
    n = len(areas)
    land_area = shapely.area(tracts.geom)
    tree = shapely.STRtree(tracts.geom)
    d, t = tree.query(areas, predicate="intersects")
    inter = shapely.intersection(areas[d], tracts.geom[t])
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(land_area[t] > 0, shapely.area(inter) / land_area[t], 0.0)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(d, weights=weight * values[t].astype(float), minlength=n)

    pop = total(tracts.population)
    black, hisp, white = total(tracts.black), total(tracts.hispanic), total(tracts.white)
    land = np.array(
        [
            shapely.union_all(inter[d == i]) if (d == i).any() else shapely.Polygon()
            for i in range(n)
        ],
        dtype=object,
    )
    eff = effective_cameras(land, parts)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where(pop > 0, eff / pop * 1000.0, np.nan)
    return pd.DataFrame(
        {
            "land_area_m2": shapely.area(land),
            "residents": pop,
            "effective_cameras": eff,
            "surveillance_per_1000": level,
            "nonwhite_fraction": nonwhite_fraction(black, hisp, white),
            "tracts": np.bincount(d, minlength=n),
        }
    )


def site_neighbourhoods(
    site_ids: np.ndarray,
    site_xy: np.ndarray,
    tracts: TractCounts,
    parts: np.ndarray,
    radii_m: tuple[float, ...] = SITE_RADII_M,
) -> pd.DataFrame:
    """Surveillance level and non-white share within each radius of each site, ranked.

    Each disk is measured by :func:`area_measures` (residents spread evenly over each tract's
    land; effective cameras counted on the disk's land only). Rank 1 is the most surveilled
    neighbourhood.
    """
    out = pd.DataFrame({"site_id": site_ids})
    for radius in radii_m:
        disks = shapely.buffer(shapely.points(site_xy), radius, quad_segs=BUFFER_QUAD_SEGS)
        m = area_measures(disks, tracts, parts)
        tag = f"{radius:.0f}m"
        out[f"residents_{tag}"] = m["residents"].to_numpy()
        out[f"effective_cameras_{tag}"] = m["effective_cameras"].to_numpy()
        out[f"surveillance_per_1000_{tag}"] = m["surveillance_per_1000"].to_numpy()
        out[f"nonwhite_fraction_{tag}"] = m["nonwhite_fraction"].to_numpy()
        out[f"rank_{tag}"] = (
            out[f"surveillance_per_1000_{tag}"]
            .rank(ascending=False, method="min", na_option="bottom")
            .astype(int)
        )
    first = f"rank_{radii_m[0]:.0f}m"
    return out.sort_values([first, "site_id"], kind="stable").reset_index(drop=True)
