"""The plant file's ``business:`` block and its maintenance crew (``technicians:``).

Defaults describe a plausible Chinese integrated-stove maker: most revenue at home (East
China first), a small cross-border share, priced in CNY. A region or channel marked
``export: true`` (default: ``Overseas`` and ``cross-border``) only meets the other kind:
export regions buy through export channels and domestic ones through the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.plant_check import Ctx, as_list, as_map, flag, join, known, num, text
from simulator.plant_layout import Area, served_lines


@dataclass(frozen=True)
class Person:
    name: str  # English / pinyin (the `technician` field of work orders)
    name_zh: str = ""  # default: name

    def __post_init__(self) -> None:
        if not self.name_zh:
            object.__setattr__(self, "name_zh", self.name)


@dataclass(frozen=True)
class Share:
    """One sales region or channel: its tag value, labels and share of revenue."""

    name: str  # the `region` / `channel` tag value
    name_zh: str
    share: float  # of revenue, normalised over the list
    map: str | None = None  # China-map region id (regions only), None when not on the map
    export: bool = False
    units: tuple[int, int] = (1, 2)  # channels: units per order, uniform lo..hi


@dataclass(frozen=True)
class Product:
    name: str
    name_zh: str
    price: float  # list price in the plant's currency
    share: float  # of the output of the lines that make it, normalised per line
    made_by: tuple[str, ...] = ()  # finished line ids (or area/line); () = every one


@dataclass(frozen=True)
class Business:
    currency: str = "CNY"  # ISO 4217
    daily_output_target: float = 1500.0  # finished units per plant-local day
    #: Accepted from older plant files, no longer used: orders follow production
    #: (simulator.stock).
    sales_orders_per_h: float | None = None
    stock_days: float = 3.0  # target finished-goods stock, in days of output
    regions: tuple[Share, ...] = ()
    channels: tuple[Share, ...] = ()
    products: tuple[Product, ...] = ()

    def __post_init__(self) -> None:
        if not self.regions:
            object.__setattr__(self, "regions", DEFAULT_REGIONS)
        if not self.channels:
            object.__setattr__(self, "channels", DEFAULT_CHANNELS)
        if not self.products:
            object.__setattr__(self, "products", DEFAULT_PRODUCTS)


#: Revenue shares of the demo maker: domestic-dominant, a small overseas share.
DEFAULT_REGIONS = (
    Share("East China", "华东", 0.34, "east"),
    Share("South China", "华南", 0.17, "south"),
    Share("North China", "华北", 0.13, "north"),
    Share("Central China", "华中", 0.12, "central"),
    Share("Southwest China", "西南", 0.10, "southwest"),
    Share("Northwest China", "西北", 0.05, "northwest"),
    Share("Northeast China", "东北", 0.05, "northeast"),
    Share("Overseas", "海外", 0.04, None, export=True),
)
DEFAULT_CHANNELS = (
    Share("dealer", "经销商", 0.46, units=(2, 12)),
    Share("online", "电商", 0.28),
    Share("live-stream", "直播", 0.22),
    Share("cross-border", "跨境电商", 0.04, export=True, units=(1, 3)),
)
DEFAULT_PRODUCTS = (
    Product("Integrated stove X7", "集成灶X7", 8999.0, 0.3),
    Product("Integrated stove S5", "集成灶S5", 6499.0, 0.25),
    Product("Steam-oven integrated stove Z9", "蒸烤一体集成灶Z9", 12999.0, 0.1),
    Product("Range hood H3", "油烟机H3", 2599.0, 0.25),
)
DEFAULT_TECHNICIANS = (
    Person("Zhang Wei", "张伟"), Person("Wang Fang", "王芳"), Person("Li Qiang", "李强"),
    Person("Chen Jing", "陈静"), Person("Liu Yang", "刘洋"), Person("Zhao Lei", "赵磊"),
    Person("Huang Min", "黄敏"), Person("Zhou Tao", "周涛"),
)
_CURRENCY = re.compile(r"^[A-Z]{3}\Z")
_MAP_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}\Z")
_EXPORT_DEFAULT = ("Overseas", "cross-border")


def parse_technicians(ctx: Ctx, raw: Any) -> tuple[Person, ...]:
    if raw is None:
        return DEFAULT_TECHNICIANS
    out = []
    for i, item in enumerate(as_list(ctx, raw, "technicians")):
        p = f"technicians[{i}]"
        m = as_map(ctx, item, p)
        known(ctx, m, p, ("name", "name_zh"))
        name = _label(ctx, m, "name", p)
        out.append(Person(name, _label(ctx, m, "name_zh", p, name)))
    return tuple(out)


def parse_business(ctx: Ctx, raw: Any, top_orders_per_h: Any) -> Business:
    """The ``business:`` block; a top-level ``sales_orders_per_h`` is still accepted."""
    m = as_map(ctx, raw if raw is not None else {}, "business")
    known(ctx, m, "business", ("currency", "daily_output_target", "sales_orders_per_h",
                               "stock_days", "regions", "channels", "products"))
    if top_orders_per_h is not None and m.get("sales_orders_per_h") is not None:
        raise ctx.fail("sales_orders_per_h", "give it at the top level or in business:, "
                       "not both")
    given = m if top_orders_per_h is None else {"sales_orders_per_h": top_orders_per_h}
    rate = (num(ctx, given, "sales_orders_per_h",
                "" if top_orders_per_h is not None else "business", lo=0.0, lo_open=True)
            if given.get("sales_orders_per_h") is not None else None)
    currency = text(ctx, m, "currency", "business", "CNY")
    if not _CURRENCY.match(currency):
        raise ctx.fail(join("business", "currency"),
                       f"must be an ISO 4217 code such as CNY or EUR, got {currency!r}")
    business = Business(
        currency=currency,
        daily_output_target=num(ctx, m, "daily_output_target", "business", 1500.0, lo=0.0,
                                lo_open=True),
        sales_orders_per_h=rate,
        stock_days=num(ctx, m, "stock_days", "business", 3.0, lo=0.0, lo_open=True,
                       hi=365.0),
        regions=_shares(ctx, m.get("regions"), "business.regions", DEFAULT_REGIONS,
                        with_map=True),
        channels=_shares(ctx, m.get("channels"), "business.channels", DEFAULT_CHANNELS,
                         with_map=False),
        products=_products(ctx, m.get("products")),
    )
    _check_export_pairs(ctx, business)
    return business


def _shares(ctx: Ctx, raw: Any, path: str, default: tuple[Share, ...],
            *, with_map: bool) -> tuple[Share, ...]:
    if raw is None:
        return default
    out: list[Share] = []
    keys = ("name", "name_zh", "share", "export", *(("map",) if with_map else ("units",)))
    for i, item in enumerate(as_list(ctx, raw, path)):
        p = f"{path}[{i}]"
        m = as_map(ctx, item, p)
        known(ctx, m, p, keys)
        name = _label(ctx, m, "name", p)
        if name in {s.name for s in out}:
            raise ctx.fail(join(p, "name"), f"duplicate name {name!r}")
        map_id = (text(ctx, m, "map", p, "") or None) if with_map else None
        if map_id is not None and not _MAP_ID.match(map_id):
            raise ctx.fail(join(p, "map"), f"must be a map region id like east or "
                           f"southwest, got {map_id!r}")
        export = flag(ctx, m, "export", p, name in _EXPORT_DEFAULT)
        out.append(Share(name, _label(ctx, m, "name_zh", p, name),
                         num(ctx, m, "share", p, lo=0.0, lo_open=True), map_id, export,
                         _units(ctx, m, p, (1, 2))))
    return tuple(out)


def _units(ctx: Ctx, m: Mapping[str, Any], path: str,
           default: tuple[int, int]) -> tuple[int, int]:
    raw = m.get("units")
    if raw is None:
        return default
    if (not isinstance(raw, list) or len(raw) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw)
            or not 1 <= raw[0] <= raw[1] <= 100_000):
        raise ctx.fail(join(path, "units"), "must be [lo, hi] whole units per order, "
                       f"1 <= lo <= hi, got {raw!r}"[:200])
    return raw[0], raw[1]


def _products(ctx: Ctx, raw: Any) -> tuple[Product, ...]:
    if raw is None:
        return DEFAULT_PRODUCTS
    out: list[Product] = []
    for i, item in enumerate(as_list(ctx, raw, "business.products")):
        p = f"business.products[{i}]"
        m = as_map(ctx, item, p)
        known(ctx, m, p, ("name", "name_zh", "price", "share", "made_by"))
        name = _label(ctx, m, "name", p)
        if name in {x.name for x in out}:
            raise ctx.fail(join(p, "name"), f"duplicate product {name!r}")
        made_by: tuple[str, ...] = ()
        if m.get("made_by") is not None:
            mpath = join(p, "made_by")
            refs: list[Any] = as_list(ctx, m["made_by"], mpath)
            for k, ref in enumerate(refs):
                if not isinstance(ref, str) or not ref.strip():
                    raise ctx.fail(f"{mpath}[{k}]", f"must be a line id, got {ref!r}"[:120])
            made_by = tuple(r.strip() for r in refs)
        out.append(Product(name, _label(ctx, m, "name_zh", p, name),
                           num(ctx, m, "price", p, lo=0.0, lo_open=True),
                           num(ctx, m, "share", p, 1.0, lo=0.0, lo_open=True), made_by))
    return tuple(out)


def check_made_by(ctx: Ctx, business: Business, areas: list[Area]) -> None:
    """Every ``made_by`` entry names lines that make finished goods (an output and not
    ``finished: false``)."""
    for i, product in enumerate(business.products):
        for k, ref in enumerate(product.made_by):
            path = f"business.products[{i}].made_by[{k}]"
            try:
                lines = served_lines(areas, ref)
            except ValueError as exc:
                raise ctx.fail(path, str(exc)) from None
            bad = [ln.id for ln in lines if not (ln.finished and ln.output)]
            if bad:
                raise ctx.fail(path, f"line {bad[0]!r} makes no finished goods (it has no "
                               "output machine or says finished: false)")


def _check_export_pairs(ctx: Ctx, business: Business) -> None:
    """Every kind of region (export / domestic) present needs a channel of its kind."""
    for export in (False, True):
        if (any(r.export == export for r in business.regions)
                and not any(c.export == export for c in business.channels)):
            kind = "export" if export else "domestic"
            raise ctx.fail("business.channels", f"has no {kind} channel for the {kind} "
                           "regions (mark cross-border channels with export: true)")


def _label(ctx: Ctx, m: Mapping[str, Any], key: str, path: str,
           default: str | None = None) -> str:
    v = text(ctx, m, key, path, default)
    if "\\" in v or len(v) > 64:
        raise ctx.fail(join(path, key), "must be at most 64 characters without backslashes")
    return v
