"""Which camera sites can see the study area: any street of the walk network within reach."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from sim.exposure.cameras import CameraSites


def can_see_network(
    edge_geom: np.ndarray, camera_xy: np.ndarray, reach_m: np.ndarray
) -> np.ndarray:
    """True for each camera with a street of the network within its reach (metres).

    Under ``sightline`` a camera in reach may still see nothing (walls in the way); it is
    kept, as its isovist decides. A camera out of reach sees nothing under either model.
    """
    if len(camera_xy) == 0:
        return np.zeros(0, bool)
    tree = shapely.STRtree(edge_geom)
    cam, _ = tree.query(shapely.points(camera_xy), predicate="dwithin", distance=reach_m)
    out = np.zeros(len(camera_xy), bool)
    out[cam] = True
    return out


def left_out_table(cameras: CameraSites, reach_m: np.ndarray) -> dict[str, object]:
    """The sites that cannot see the study area, for the manifest: totals and every id."""
    frame = pd.DataFrame(
        {
            "camera_id": cameras.camera_id,
            "source": cameras.source,
            "class": cameras.cls,
            "count": cameras.count,
            "lat": np.round(cameras.lat.astype(float), 6),
            "lon": np.round(cameras.lon.astype(float), 6),
            "reach_m": reach_m,
        }
    )
    return {
        "reason": "no street of the walk network within the site's reach",
        "sites": len(frame),
        "cameras": float(frame["count"].sum()),
        "by_source": frame.groupby("source")["count"].agg(["size", "sum"]).to_dict("index"),
        # every one, by id (the id holds the source and the coordinates)
        "camera_ids": frame["camera_id"].astype(str).tolist(),
    }
