"""The demo's places: an irregular county (or province) outline in CGCS2000 degrees, cut into
towns and villages that tile it with no gaps or overlaps.

Each level is a Voronoi partition of random seeds, relaxed twice (Lloyd) for even sizes and
clipped to its parent, so the children of a unit tile it exactly (up to floating point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from rural import codes
from rural.demo import names
from rural.demo.params import DemoParams
from rural.enums import UrbanRuralCode

KM_PER_DEG_LAT = 110.574
PROVINCE_CODE = "330000000000"
PROVINCE_NAME = "浙江省"
CITY_CODE = "331100000000"
CITY_NAME = "丽水市"
COUNTY_CODE = "331128000000"
COUNTY_NAME = "青溪县(示例)"
# The single demo county lies in a rural part of Lishui, Zhejiang.
COUNTY_CENTER = (119.85, 28.40)
COUNTY_BOUNDS = (119.6, 28.2, 120.1, 28.6)
COUNTY_RADIUS_KM = 17.0
# The several-county demo: an irregular province in the Zhejiang area.
PROVINCE_CENTER = (120.2, 29.2)
KM2_PER_COUNTY = 1_000.0
STREET_COMMUNITY_SHARE = 0.6  # 居委会 among the units of the 街道


def km_per_deg_lon(lat: float) -> float:
    return 111.320 * math.cos(math.radians(lat))


@dataclass
class VillageGeo:
    code: str
    name: str
    geom: MultiPolygon
    seat: tuple[float, float]
    urban_rural_code: str
    rural_override: bool | None = None

    @property
    def is_committee(self) -> bool:
        """村委会 (village part 200-399)."""
        return codes.village_kind(self.code) == "村委会"


@dataclass
class TownGeo:
    code: str
    name: str
    geom: MultiPolygon
    seat: tuple[float, float]
    villages: list[VillageGeo] = field(default_factory=list)


@dataclass
class CountyGeo:
    code: str
    name: str
    geom: MultiPolygon
    seat: tuple[float, float]
    towns: list[TownGeo] = field(default_factory=list)


@dataclass
class CityGeo:
    code: str
    name: str
    geom: MultiPolygon | None
    counties: list[CountyGeo] = field(default_factory=list)


@dataclass
class Geography:
    province_geom: MultiPolygon | None
    cities: list[CityGeo]

    @property
    def counties(self) -> list[CountyGeo]:
        return [county for city in self.cities for county in city.counties]

    @property
    def towns(self) -> list[TownGeo]:
        return [town for county in self.counties for town in county.towns]

    @property
    def villages(self) -> list[VillageGeo]:
        return [v for town in self.towns for v in town.villages]


def star_outline(
    rng: np.random.Generator, center: tuple[float, float], radius_km: float, vertices: int = 360
) -> Polygon:
    """A noisy star-shaped polygon: a wobbling radius around ``center``, never a rectangle."""
    theta = np.linspace(0.0, 2.0 * math.pi, vertices, endpoint=False)
    r = np.ones(vertices)
    for k in range(2, 9):
        amplitude = rng.uniform(0.02, 0.10) / math.sqrt(k - 1)
        r += amplitude * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    # Fine, smoothed noise: a coastline-like ragged edge.
    noise = rng.normal(0.0, 0.035, vertices)
    kernel = np.array([0.25, 0.5, 0.25])
    noise = np.convolve(np.concatenate([noise[-1:], noise, noise[:1]]), kernel, mode="valid")
    r = np.clip(r + noise, 0.45, None)
    cx, cy = center
    x = cx + r * radius_km * np.cos(theta) / km_per_deg_lon(cy)
    y = cy + r * radius_km * np.sin(theta) / KM_PER_DEG_LAT
    return Polygon(np.column_stack([x, y]))


def fit_into(poly: Polygon, bounds: tuple[float, float, float, float]) -> Polygon:
    """Shrink ``poly`` about its bounds' centre until it lies within ``bounds``."""
    minx, miny, maxx, maxy = poly.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    scale = min(
        1.0,
        (bounds[2] - bounds[0]) / (maxx - minx) * 0.98,
        (bounds[3] - bounds[1]) / (maxy - miny) * 0.98,
    )
    tx = (bounds[0] + bounds[2]) / 2 - cx
    ty = (bounds[1] + bounds[3]) / 2 - cy
    coords = np.asarray(poly.exterior.coords)
    coords = np.column_stack(
        [cx + tx + (coords[:, 0] - cx) * scale, cy + ty + (coords[:, 1] - cy) * scale]
    )
    return Polygon(coords)


def sample_in(
    geom: BaseGeometry, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform random points strictly inside ``geom`` (rejection sampling)."""
    shapely.prepare(geom)
    minx, miny, maxx, maxy = geom.bounds
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    have = 0
    while have < n:
        batch = max(16, int((n - have) * 2.5))
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(geom, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        have += int(inside.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def _as_multi(geom: BaseGeometry) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:  # a GeometryCollection mixing polygons with slivers of lines
        parts = [
            p
            for g in shapely.get_parts(geom)
            for p in shapely.get_parts(g)
            if isinstance(p, Polygon) and not p.is_empty
        ]
    return MultiPolygon(parts)


def partition(
    region: BaseGeometry, n: int, rng: np.random.Generator, *, lloyd: int = 2
) -> tuple[list[MultiPolygon], np.ndarray]:
    """Cut ``region`` into ``n`` cells that tile it; returns the cells and their seed points."""
    x, y = sample_in(region, n, rng)
    seeds = np.column_stack([x, y])
    if n == 1:
        return [_as_multi(region)], seeds
    minx, miny, maxx, maxy = region.bounds
    frame = box(minx - 1, miny - 1, maxx + 1, maxy + 1)
    shapely.prepare(region)
    cells: list[MultiPolygon] = []
    for step in range(lloyd + 1):
        diagram = shapely.voronoi_polygons(
            shapely.multipoints(seeds), extend_to=frame, ordered=True
        )
        raw = shapely.intersection(shapely.get_parts(diagram), region)
        cells = [_as_multi(cell) for cell in raw]
        if step == lloyd:
            break
        centroids = shapely.centroid(np.asarray(cells, dtype=object))
        inside = shapely.contains(np.asarray(cells, dtype=object), centroids)
        moved = np.where(
            inside, centroids, shapely.point_on_surface(np.asarray(cells, dtype=object))
        )
        seeds = shapely.get_coordinates(moved)
    return cells, seeds


def allocate(weights: np.ndarray, total: int, minimum: int) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights``, each at least ``minimum``."""
    n = len(weights)
    base = np.full(n, minimum, dtype=np.int64)
    rest = total - minimum * n
    if rest < 0:
        msg = f"cannot give {n} parts at least {minimum} each out of {total}"
        raise ValueError(msg)
    share = weights / weights.sum() * rest
    floor = np.floor(share).astype(np.int64)
    remainder = rest - int(floor.sum())
    order = np.argsort(-(share - floor), kind="stable")
    floor[order[:remainder]] += 1
    return base + floor


def _town_kinds(n: int) -> list[str]:
    """One 街道 (the county seat), then about 60% 镇 and 40% 乡."""
    if n < 3:
        return ["镇"] * n
    towns = max(1, round((n - 1) * 0.6))
    return ["街道"] + ["镇"] * towns + ["乡"] * (n - 1 - towns)


def build(params: DemoParams, rng: np.random.Generator) -> Geography:
    """The whole hierarchy for ``params`` (one county, or several counties under cities)."""
    if params.counties == 1:
        outline = fit_into(star_outline(rng, COUNTY_CENTER, COUNTY_RADIUS_KM), COUNTY_BOUNDS)
        county = CountyGeo(
            code=COUNTY_CODE,
            name=COUNTY_NAME,
            geom=MultiPolygon([outline]),
            seat=COUNTY_CENTER,
        )
        _fill_county(county, params.town_count, params.villages, rng)
        city = CityGeo(code=CITY_CODE, name=CITY_NAME, geom=None, counties=[county])
        return Geography(province_geom=None, cities=[city])
    return _build_province(params, rng)


def _build_province(params: DemoParams, rng: np.random.Generator) -> Geography:
    n_counties, n_cities = params.counties, params.cities
    radius = math.sqrt(n_counties * KM2_PER_COUNTY / math.pi)
    outline = star_outline(rng, PROVINCE_CENTER, radius, vertices=720)
    city_cells, _ = partition(outline, n_cities, rng)
    city_areas = np.array([c.area for c in city_cells])
    counties_per_city = allocate(city_areas, n_counties, 1)
    villages_per_county = allocate(np.ones(n_counties), params.villages, 0)
    towns_per_county = allocate(villages_per_county.astype(float), params.town_count, 2)
    taken_regions: set[str] = set()
    city_names = names.region_names(rng, n_cities, suffix="市", taken=taken_regions)
    cities: list[CityGeo] = []
    county_index = 0
    for c, cell in enumerate(city_cells):
        city_code = f"33{c + 1:02d}00000000"
        city = CityGeo(code=city_code, name=city_names[c] + "(示例)", geom=cell)
        county_cells, county_seeds = partition(cell, int(counties_per_city[c]), rng)
        county_names = names.region_names(rng, len(county_cells), suffix="县", taken=taken_regions)
        for k, county_cell in enumerate(county_cells):
            county = CountyGeo(
                code=codes.child_code(city_code, 21 + k),
                name=county_names[k] + "(示例)",
                geom=county_cell,
                seat=(float(county_seeds[k][0]), float(county_seeds[k][1])),
            )
            _fill_county(
                county,
                int(towns_per_county[county_index]),
                int(villages_per_county[county_index]),
                rng,
            )
            county_index += 1
            city.counties.append(county)
        cities.append(city)
    return Geography(province_geom=MultiPolygon([outline]), cities=cities)


def _fill_county(
    county: CountyGeo, n_towns: int, n_villages: int, rng: np.random.Generator
) -> None:
    cells, seeds = partition(county.geom, n_towns, rng)
    # The town nearest the county seat is the 街道 (the county seat itself).
    cx, cy = county.geom.centroid.x, county.geom.centroid.y
    county.seat = (cx, cy)
    order = np.argsort(np.hypot(seeds[:, 0] - cx, seeds[:, 1] - cy), kind="stable")
    kinds = _town_kinds(n_towns)
    areas = np.array([cells[i].area for i in order])
    per_town = allocate(areas, n_villages, 3)
    taken: set[str] = set()
    counters = {"街道": 0, "镇": 100, "乡": 200}
    suffix = {"街道": "街道", "镇": "镇", "乡": "乡"}
    for rank, index in enumerate(order):
        kind = kinds[rank]
        counters[kind] += 1
        name = names.village_names(rng, 1, suffix=suffix[kind], taken=taken)[0]
        town = TownGeo(
            code=codes.child_code(county.code, counters[kind]),
            name=name,
            geom=cells[index],
            seat=(float(seeds[index][0]), float(seeds[index][1])),
        )
        _fill_town(town, kind, int(per_town[rank]), rng)
        county.towns.append(town)
    county.towns.sort(key=lambda t: t.code)


def _fill_town(town: TownGeo, kind: str, n: int, rng: np.random.Generator) -> None:
    cells, seeds = partition(town.geom, n, rng)
    tx, ty = town.seat
    order = np.argsort(np.hypot(seeds[:, 0] - tx, seeds[:, 1] - ty), kind="stable")
    if kind == "街道":
        communities = max(1, round(n * STREET_COMMUNITY_SHARE))
    elif kind == "镇":
        communities = int(rng.random() < 0.5)
    else:
        communities = 0
    taken: set[str] = set()
    community_names = names.village_names(rng, communities, suffix="社区", taken=taken)
    village_names = names.village_names(rng, n - communities, suffix="村", taken=taken)
    for rank, index in enumerate(order):
        seat = (float(seeds[index][0]), float(seeds[index][1]))
        if rank < communities:
            if kind == "街道":
                urban_rural = (
                    UrbanRuralCode.MAIN_URBAN if rank == 0 else UrbanRuralCode.URBAN_RURAL_FRINGE
                )
            else:
                urban_rural = UrbanRuralCode.TOWN_CENTRE
            code = codes.child_code(town.code, 1 + rank)
            name = community_names[rank]
        else:
            seat_village = kind == "乡" and rank == 0
            urban_rural = UrbanRuralCode.TOWNSHIP_CENTRE if seat_village else UrbanRuralCode.VILLAGE
            code = codes.child_code(town.code, 201 + rank - communities)
            name = village_names[rank - communities]
        town.villages.append(
            VillageGeo(
                code=code,
                name=name,
                geom=cells[index],
                seat=seat,
                urban_rural_code=str(urban_rural),
            )
        )
    town.villages.sort(key=lambda v: v.code)


def mark_converted_community(geo: Geography) -> None:
    """村改居: in each county, the last community of the 街道 is a converted village that is
    still farmed — urban-rural code 112, counted as a village by hand (rural_override)."""
    for county in geo.counties:
        street = county.towns[0]
        communities = [v for v in street.villages if not v.is_committee]
        if len(communities) >= 2:
            converted = communities[-1]
            converted.urban_rural_code = str(UrbanRuralCode.URBAN_RURAL_FRINGE)
            converted.rural_override = True
