"""How families are put together: each family declares the per-(account, as-of) tables it
reads (*sources*) and how its features are computed from them; ``assemble`` joins every
distinct source once onto the population and computes all features in one projection.

Why not join each family's finished table onto the population: Ibis inlines a relation that
is the first table of several joins instead of sharing it, so the population (and every
source two families share, such as the windowed trade sums) would be computed once per
family. Joining each source once keeps the plan to one scan per input table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import ibis

from valuemodel.features.asof import KEYS, Spine


@dataclass(frozen=True)
class Source:
    """A table keyed by (account_id, as_of), or by account_id or as_of alone, that features
    read.

    ``name`` identifies it across families (the same name must mean the same table);
    ``fill`` gives the value of columns for population rows without a row in the table
    (e.g. 0 trades).
    """

    name: str
    table: ibis.Table
    fill: Mapping[str, float] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [c for c in self.table.columns if c not in KEYS]


Features = Callable[[ibis.Table], dict[str, ibis.Value]]


@dataclass(frozen=True)
class Part:
    """A family's sources and its features: ``features(x)`` returns the output columns as
    expressions over ``x``, the population joined with every source (one row per account and
    as-of date).

    ``ranks(x)`` (optional) returns ``Rank`` specifications over ``x`` (ranks within the
    population at each as-of date) under internal names that ``features`` then reads from
    ``x`` (see ``ranked``).
    """

    family: str
    sources: Sequence[Source]
    features: Features
    ranks: Callable[[ibis.Table], dict[str, Rank]] | None = None


@dataclass(frozen=True)
class Rank:
    """Where ``key`` stands among the population rows of the same as-of date (and the same
    values of ``within``).

    ``finish(below, size)`` gives the output column from ``below``, the number of rows of the
    group with a smaller key (the 0-based rank, ties sharing the lowest), and ``size``, the
    number of rows of the group with a key. Rows with a null key get null.
    """

    key: ibis.Value
    finish: Callable[[ibis.Value, ibis.Value], ibis.Value]
    within: Sequence[ibis.Value] = ()


def assemble(spine: Spine, parts: Sequence[Part]) -> ibis.Table:
    """The population with every part's features: (account_id, as_of, *features)."""
    x = joined_sources(spine, [s for p in parts for s in p.sources])
    ranks: dict[str, Rank] = {}
    for part in parts:
        if part.ranks is not None:
            ranks |= part.ranks(x)
    if ranks:
        x = ranked(x, ranks)
    out: dict[str, ibis.Value] = {}
    for part in parts:
        out |= part.features(x)
    return x.select(*KEYS, **out)


def joined_sources(spine: Spine, sources: Sequence[Source]) -> ibis.Table:
    """``spine.base`` left-joined with each distinct source once, fills applied.

    One join chain and one projection: joining and selecting source by source nests a
    projection per source, which Ibis then takes about a second to build and compile.
    """
    base = spine.base
    seen = dict.fromkeys(spine.base_sources)
    columns: dict[str, ibis.Value] = {c: base[c] for c in base.columns}
    x = base
    for source in sources:
        if source.name in seen:
            continue
        seen[source.name] = None
        t = source.table
        clash = set(source.columns) & set(columns)
        if clash:
            raise ValueError(f"source {source.name!r} repeats columns {sorted(clash)}")
        keys = [k for k in KEYS if k in t.columns]
        x = x.left_join(t, [base[k] == t[k] for k in keys])
        for c in source.columns:
            columns[c] = t[c].fill_null(source.fill[c]) if c in source.fill else t[c]
    return x.select(**columns)


def ranked(x: ibis.Table, ranks: Mapping[str, Rank]) -> ibis.Table:
    """``x`` with a column per rank, named as in ``ranks``.

    Not window functions over ``x``: the engine's window operator would sort every column of
    the wide table once per rank (DuckDB does not prune a shared table's unused columns).
    Instead each rank's keys are counted per group and distinct value (a group-by reads only
    the columns it needs), running counts over that small table give ``below``, and the
    result is joined back on the key: exact (integer counts), and every engine runs it. All
    keys are added in one step so that the wide table is shared once, not once per rank.
    """
    cols: dict[str, ibis.Value] = {}
    groups: dict[str, list[str]] = {}
    for name, rank in ranks.items():
        cols[f"_{name}_key"] = rank.key
        by = {f"_{name}_g{i}": g for i, g in enumerate(rank.within)}
        cols |= by
        groups[name] = ["as_of", *by]
    keyed = x.mutate(**cols)
    out = keyed
    values: dict[str, ibis.Value] = {c: keyed[c] for c in x.columns}
    for name, rank in ranks.items():
        key, by = f"_{name}_key", groups[name]
        counts = (
            keyed.filter(keyed[key].notnull())
            .group_by([*by, key])
            .aggregate(_n=lambda t: t.count())
        )
        running = ibis.cumulative_window(group_by=by, order_by=key)
        below = counts._n.sum().over(running) - counts._n
        value = rank.finish(below, counts._n.sum().over(group_by=by))
        table = counts.select(*by, key, **{name: value})
        out = out.left_join(table, [keyed[c] == table[c] for c in (*by, key)])
        values[name] = table[name]
    return out.select(**values)
