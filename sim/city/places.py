"""Places by the names people type: stations, exits and sites matched forgivingly.

Pure: takes the exits and the site records, returns matches. A query is compared with every
place in tiers, best first:

0. an id, exactly (any case): a site id, an exit id, a GTFS stop id;
1. a name, after normalising both sides (case, punctuation, ``St``/``Street``,
   ``Sq``/``Square``, ``Av``/``Ave``/``Avenue``, ``4th``/``4``, ``West``/``W`` ...);
2. the start of a name (``Christopher St`` for ``Christopher St-Stonewall``);
3. every word of the query somewhere in a name (``Union Sq`` for ``14 St-Union Sq``).

The best tier with any match decides: one place there is the answer; several are an
ambiguity; none anywhere gives the closest names ("did you mean ...").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.errors import InputError, ProtestSimError, quoted

# Words people type in several ways, mapped to one form (both the query and the names go
# through this). "St" is Street in every MTA station name of the bundle.
SYNONYMS = {
    "street": "st",
    "streets": "st",
    "sts": "st",
    "square": "sq",
    "avenue": "av",
    "avenues": "av",
    "ave": "av",
    "park": "pk",
    "parkway": "pkwy",
    "plaza": "plz",
    "place": "pl",
    "center": "ctr",
    "centre": "ctr",
    "heights": "hts",
    "boulevard": "blvd",
    "blvd.": "blvd",
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "and": "",
}
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$")
# A word of at least this many letters may stand for the start of a longer word ("christ").
MIN_WORD_PREFIX = 3
# Names at least this similar (difflib ratio) are offered as "did you mean".
MIN_SIMILARITY = 0.6
# Candidates listed on an ambiguity or a miss.
MAX_LISTED = 8


def normalise(text: str) -> tuple[str, ...]:
    """The words of ``text`` in one canonical form (``"W 4th Street"`` -> ``('w', '4', 'st')``)."""
    words = re.sub(r"[^0-9a-z]+", " ", text.lower().replace("&", " ")).split()
    out = []
    for word in words:
        ordinal = _ORDINAL.match(word)
        if ordinal:
            word = ordinal.group(1)
        word = SYNONYMS.get(word, word)
        if word:
            out.append(word)
    return tuple(out)


@dataclass(frozen=True)
class Place:
    """A place a user can name: a site, a station (all exits of one name), a GTFS stop or an
    exit. ``exits`` are indices into the exits the catalogue was built from."""

    kind: str  # "site", "station", "stop", "exit"
    id: str  # what the place is known by in files and outputs
    name: str  # what a reader sees
    detail: str = ""
    ids: tuple[str, ...] = ()  # exact ids accepted, lower case
    names: tuple[tuple[str, ...], ...] = ()  # normalised names accepted
    exits: tuple[int, ...] = ()

    def label(self) -> str:
        """``'Christopher St-Stonewall' (station; routes 1)``"""
        extra = f"; {self.detail}" if self.detail else ""
        if self.kind == "site":
            return f"{self.name!r} (site {self.id}{extra})"
        if self.kind == "exit":
            return f"{self.id!r} (exit of {self.name}{extra})"
        return f"{self.name!r} ({self.kind}{extra})"


@dataclass(frozen=True)
class Match:
    """The places matching a query at the best tier (empty: none), and the closest others."""

    query: str
    tier: int | None
    places: tuple[Place, ...]
    closest: tuple[Place, ...] = field(default=())

    @property
    def unique(self) -> Place | None:
        return self.places[0] if len(self.places) == 1 else None

    def problem(self, kinds: str) -> str:
        """Why this match picks no place, listing candidates; ``kinds`` names what was sought."""
        if self.places:
            listed = ", ".join(p.label() for p in self.places[:MAX_LISTED])
            more = len(self.places) - MAX_LISTED
            return (
                f"{len(self.places)} places match: {listed}"
                + (f" and {more} more" if more > 0 else "")
                + "; give a longer name or an id (`run_sim.py places QUERY` lists them)"
            )
        hint = ", ".join(p.label() for p in self.closest)
        return f"no {kinds} by that name or id" + (
            f"; did you mean {hint}?" if hint else " (`run_sim.py places` lists them)"
        )


def _tier(query: tuple[str, ...], name: tuple[str, ...]) -> int | None:
    """How ``name`` matches the normalised ``query`` (1 exact, 2 start, 3 words), or None."""
    if not query:
        return None
    if query == name:
        return 1

    def same(q: str, n: str, may_prefix: bool) -> bool:
        return q == n or (
            may_prefix and not q.isdigit() and len(q) >= MIN_WORD_PREFIX and n.startswith(q)
        )

    if len(query) <= len(name) and all(
        same(q, n, i == len(query) - 1) for i, (q, n) in enumerate(zip(query, name))
    ):
        return 2
    if all(any(same(q, n, True) for n in name) for q in query):
        return 3
    return None


def match(query: str, places: Iterable[Place]) -> Match:
    """The places ``query`` names at the best tier, or the closest names when none does."""
    places = list(places)
    wanted_id = query.strip().lower()
    wanted = normalise(query)
    best: int | None = None
    hits: list[Place] = []
    for place in places:
        tiers = [0] if wanted_id and wanted_id in place.ids else []
        tiers += [t for t in (_tier(wanted, n) for n in place.names) if t is not None]
        if not tiers:
            continue
        tier = min(tiers)
        if best is None or tier < best:
            best, hits = tier, [place]
        elif tier == best:
            hits.append(place)
    if hits:
        return Match(query, best, tuple(hits))
    return Match(query, None, (), tuple(closest(query, places)))


def closest(query: str, places: list[Place], n: int = 4) -> list[Place]:
    """The ``n`` places whose names or ids look most like ``query`` (difflib ratio)."""
    text = " ".join(normalise(query))
    scored = []
    for place in places:
        keys = [" ".join(name) for name in place.names] + list(place.ids)
        score = max((difflib.SequenceMatcher(None, text, k).ratio() for k in keys), default=0)
        scored.append((score, place.kind != "exit", place))
    scored.sort(key=lambda s: (-s[0], not s[1]))
    return [p for score, _, p in scored[:n] if score >= MIN_SIMILARITY]


def resolve(
    query: str,
    places: Iterable[Place],
    where: str,
    kinds: str = "station, exit or site",
    error: type[ProtestSimError] = InputError,
) -> Place:
    """The one place ``query`` names, else ``error`` naming ``where``, the query and the
    candidates."""
    result = match(query, places)
    if result.unique is not None:
        return result.unique
    raise error(f"{where} {quoted(query)}: {result.problem(kinds)}")


# ------------------------------------------------------------------------------ catalogue


def site_places(records: Mapping[str, object]) -> list[Place]:
    """One place per site record (``SiteRecord``: ``site_id``, ``name``, ``borough``)."""
    return [
        Place(
            "site",
            site_id,
            rec.name,
            rec.borough,
            ids=(site_id.lower(),),
            names=(normalise(rec.name), normalise(site_id)),
        )
        for site_id, rec in records.items()
    ]


def station_places(exits) -> list[Place]:
    """One place per station name (spellings that normalise alike are one station, e.g.
    ``86 St`` and ``86 Street``), one per GTFS stop id, and one per exit.

    ``exits`` is a :class:`sim.city.exits.Exits` (arrays ``station``, ``exit_id``,
    ``gtfs_stop_ids``, ``routes``).
    """
    by_name: dict[tuple[str, ...], list[int]] = {}
    by_stop: dict[str, list[int]] = {}
    for i, station in enumerate(exits.station):
        by_name.setdefault(normalise(station), []).append(i)
        for stop in exits.gtfs_stop_ids[i]:
            by_stop.setdefault(stop, []).append(i)
    out = []
    for key, idx in by_name.items():
        spellings = sorted({exits.station[i] for i in idx}, key=lambda s: (-_count(exits, s), s))
        stops = sorted({s for i in idx for s in exits.gtfs_stop_ids[i]})
        out.append(
            Place(
                "station",
                spellings[0],
                spellings[0],
                f"routes {_routes(exits, idx)}; {len(idx)} exits; GTFS {' '.join(stops)}",
                ids=tuple(s.lower() for s in spellings),
                names=(key,),
                exits=tuple(idx),
            )
        )
    for stop, idx in by_stop.items():
        names = sorted({exits.station[i] for i in idx})
        out.append(
            Place(
                "stop",
                stop,
                " / ".join(names),
                f"GTFS stop {stop}",
                ids=(stop.lower(),),
                exits=tuple(idx),
            )
        )
    for i, exit_id in enumerate(exits.exit_id):
        out.append(
            Place(
                "exit",
                exit_id,
                exits.station[i],
                f"{exits.lat[i]:.5f},{exits.lon[i]:.5f}",
                ids=(exit_id.lower(),),
                exits=(i,),
            )
        )
    return out


def _count(exits, station: str) -> int:
    return int(np.count_nonzero(exits.station == station))


def _routes(exits, idx: list[int]) -> str:
    seen: list[str] = []
    for i in idx:
        for r in str(exits.routes[i]).split():
            if r not in seen:
                seen.append(r)
    return " ".join(seen)


def catalogue(exits, site_records: Mapping[str, object]) -> list[Place]:
    """Every place a user can name: sites first, then stations, GTFS stops and exits."""
    return site_places(site_records) + station_places(exits)


# --------------------------------------------------------------------- scenario helpers


def site_id(
    records: Mapping[str, object], query: str, where: str, error: type[ProtestSimError]
) -> str:
    """The site id a scenario's site id or name stands for."""
    return resolve(query, site_places(records), where, "site", error).id


def origin_exits(
    exits, names: Iterable[str], where: str, error: type[ProtestSimError]
) -> np.ndarray:
    """Indices of the exits of every named station, GTFS stop or exit (sorted, unique)."""
    places = station_places(exits)
    found = [
        np.array(resolve(name, places, where, "station or exit", error).exits, np.int64)
        for name in names
    ]
    return np.unique(np.concatenate(found)) if found else np.array([], np.int64)


def given_weights(
    exits, weights: Mapping[str, float], where: str, error: type[ProtestSimError]
) -> np.ndarray:
    """Per-exit weights from per-station weights (each split equally over the station's
    exits); ``exits`` are the scenario's origins, so a name must be one of them."""
    places = [p for p in station_places(exits) if p.kind != "exit"]
    out = np.zeros(len(exits))
    claimed: dict[tuple[int, ...], str] = {}
    for name, weight in weights.items():
        place = resolve(name, places, where, "station among the origins", error)
        if place.exits in claimed:
            raise error(
                f"{where} {quoted(name)}: names the same station as {claimed[place.exits]!r} "
                f"({place.name}); give each station once"
            )
        claimed[place.exits] = name
        idx = np.array(place.exits, np.int64)
        out[idx] += float(weight) / len(idx)
    return out


# ------------------------------------------------------------------------------- listing


def listing(places: list[Place], query: str | None = None, exits: bool = False) -> list[str]:
    """Lines of ``run_sim.py places``: every site and station (and exit), or what ``query``
    matches with each station's exits."""
    if query is not None:
        result = match(query, places)
        if not result.places:
            return [f"{query!r}: {result.problem('station, exit or site')}"]
        tier = ("id", "name", "start of a name", "words of a name")[result.tier or 0]
        lines = [f"{query!r} matches {len(result.places)} place(s) by {tier}:"]
        for place in result.places:
            lines.append(f"  {place.label()}")
            if place.kind in ("station", "stop") and len(result.places) <= 3:
                lines += [f"      exit {p.id:10s} {p.detail}" for p in _exits_of(places, place)]
        if len(result.places) > 1:
            lines.append("ambiguous: a command needs a longer name or one of these ids")
        return lines
    sites = [p for p in places if p.kind == "site"]
    stations = [p for p in places if p.kind == "station"]
    lines = [f"sites ({len(sites)}): id, name, borough"]
    lines += [f"  {p.id:22s} {p.name:36s} {p.detail}" for p in sites]
    lines.append(f"stations ({len(stations)}): name, routes, exits, GTFS stop ids")
    lines += [f"  {p.name:44s} {p.detail}" for p in sorted(stations, key=lambda p: p.name)]
    all_exits = [p for p in places if p.kind == "exit"]
    if exits:
        lines.append(f"exits ({len(all_exits)}): id, station, lat,lon")
        lines += [f"  {p.id:10s} {p.name:44s} {p.detail}" for p in all_exits]
    else:
        lines.append(
            f"exits: {len(all_exits)} (--exits lists them; `places STATION` lists a station's)"
        )
    return lines


def _exits_of(places: list[Place], station: Place) -> list[Place]:
    wanted = set(station.exits)
    return [p for p in places if p.kind == "exit" and p.exits[0] in wanted]
