"""What a run assumed that its report states, recorded in its manifest when the run is written:
how its cameras see and what blocks them, the undercount, its camera layers, and what each
replication draws (the report reads these facts, never its own idea of the model)."""

from __future__ import annotations

from typing import Any

from sim.crowd.draws import drawn_per_replication
from sim.crowd.undercount import UNDERCOUNT_SHARE, UNDERCOUNT_SOURCE
from sim.data.cameras import CAMERA_SOURCES
from sim.data.footprints import FOOTPRINT_SOURCES
from sim.exposure.visibility_models import VISIBILITY_MODELS


def model_facts(setup) -> dict[str, Any]:
    """The manifest's records ``sightlines``, ``undercount``, ``camera_layers`` and
    ``drawn_per_replication`` for a run's set-up."""
    s = setup.scenario
    return {
        "sightlines": sightline_facts(setup.coverage.visibility, s.cameras),
        "undercount": {
            "corrected": bool(s.uncertainty.undercount),
            "count_multiplier": float(s.uncertainty.count_multiplier),
            "share_counted": {k: list(v) for k, v in sorted(UNDERCOUNT_SHARE.items())},
            "share_counted_means": "the volunteers' count as a share of the experts' count "
            "(95% interval), by camera class",
            "source": UNDERCOUNT_SOURCE,
            "applies_to": "sites whose count is the volunteers' (count_source amnesty)",
        },
        "camera_layers": [
            {
                "source": layer.source,
                "holds": CAMERA_SOURCES[layer.source].holds,
                "class": layer.cls or "as the source gives it",
                "counts_from": layer.counts_from,
            }
            for layer in s.cameras.layers
        ],
        "drawn_per_replication": drawn_per_replication(s),
    }


def sightline_facts(visibility: str, cameras) -> dict[str, Any]:
    """How the run's cameras see: the visibility model, whether a camera has an aim (drawn per
    replication with camera worlds, and by which rule), the open space a sightline crosses and
    every kind of thing that blocks one (as :meth:`sim.scenario.inputs.DataSource.open_space`
    builds it)."""
    model = VISIBILITY_MODELS[visibility]
    drawn = cameras.world == "drawn"
    facts: dict[str, Any] = {
        "model": model.name,
        "rule": model.summary,
        "cameras_have_aim": model.directional or drawn,
        "aim_rule": cameras.aim if drawn else None,
        "open_space": None,
        "occluders": [],
    }
    if not model.needs_open_space:
        return facts
    corridors = {"what": "street corridor edges", "how": "corridor widths assumed by street type"}
    if not cameras.buildings:
        facts["open_space"] = "street corridors of assumed width"
        facts["occluders"] = [{**corridors, "where": "everywhere"}]
        return facts
    # inside the area the footprint file speaks for, whatever is not a building is open;
    # beyond it, street corridors (sim.data.footprints, sim.exposure.visibility)
    facts["open_space"] = (
        "everything that is not a building, within the footprint file's extent; street "
        "corridors of assumed width beyond it"
    )
    facts["occluders"] = [
        {
            "what": "buildings",
            "source": FOOTPRINT_SOURCES[cameras.footprints],
            "where": "within the footprint file's extent",
        },
        {**corridors, "where": "beyond the footprint file's extent"},
    ]
    return facts
