"""Feature declarations: every feature is declared once, in its family module, with its
expression.

A ``Feature`` is one output column, or a windowed template (``{w}`` in the name, expanded once
per window of its window sets): its name, unit, the tables (or ``table.column``) it requires,
whether higher or lower values go with churn risk, its categories when it is categorical, the
sources it reads and its Ibis expression. A ``Family`` lists a module's features in output
order and turns them into the ``parts.Part`` that ``build`` assembles: only the features whose
requirements the data meets, and only the sources those features read, so a feature can never
be built without being declared, nor declared and silently left out while its tables are
present. The words (descriptions and reason templates, English and Chinese) are kept apart,
in ``features/registry.yaml`` (see ``registry``), so that they can be edited without code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import ibis

from valuemodel.data.reader import DataSet
from valuemodel.data.schema import TABLES
from valuemodel.features.asof import Spine
from valuemodel.features.config import FeatureConfig
from valuemodel.features.parts import Part, Rank, Source

RISK_DIRECTIONS = ("higher", "lower", "none")
KINDS = ("numeric", "category")
WINDOW = "{w}"
WINDOW_SETS = ("windows", "short_windows", "change_windows", "session_windows")

SourceFunction = Callable[[DataSet, Spine], Source]
"""Builds a source (``parts.Source``) that feature expressions read columns of."""
RankFunction = Callable[[ibis.Table, FeatureConfig], Rank]
"""Where an account stands among the population (``parts.Rank``), over the joined sources."""


@dataclass(frozen=True)
class Feature:
    """One feature: its identity, metadata and expression.

    - ``name``: the output column; ``{w}`` marks a windowed template, expanded for each window
      of ``window_sets`` (the sets of ``FeatureConfig``: ``windows``, ``short_windows``,
      ``change_windows`` in days, ``session_windows`` in trading days; their windows merged
      and sorted).
    - ``unit``: what a value counts (``days``, ``CNY``, ``share 0-1``, ...); the scorer
      formats values without a format spec by it.
    - ``requires``: the contract tables (``balances``) or optional columns
      (``accounts.birth_year``) the feature needs; without one of them it is not built.
    - ``risk_direction``: ``higher`` when higher values go with more churn risk, ``lower``
      when lower values do, ``none`` when neither.
    - ``expression``: the value over ``x``, the population joined with the family's sources
      (``expression(x)``; ``expression(x, w)`` for a template). ``rank`` instead gives the
      value as a rank among the population (``parts.Rank``); other expressions of the family
      read it as ``x[rank_column(name)]``.
    - ``sources``: the functions building the sources the expression (or rank) reads.
    - ``kind``: ``numeric`` (float64) or ``category``; ``categories`` the fixed categories of
      a categorical feature (None: the values observed in the build).
    - ``market``: the feature follows the market index (returns, P&L, asset growth): it moves
      for every account together when prices move, and the scorer's drift check reports such
      moves as the market's, not as a data problem.
    """

    name: str
    unit: str
    requires: tuple[str, ...]
    risk_direction: str
    expression: Callable[..., ibis.Value] | None = None
    rank: RankFunction | None = None
    sources: tuple[SourceFunction, ...] = ()
    window_sets: tuple[str, ...] = ("windows",)
    kind: str = "numeric"
    categories: tuple[str, ...] | None = None
    market: bool = False

    def __post_init__(self) -> None:
        _check_feature(self)

    @property
    def windowed(self) -> bool:
        return WINDOW in self.name

    @property
    def members(self) -> tuple[Feature, ...]:
        return (self,)

    def windows(self, spine: Spine) -> tuple[int, ...]:
        """The windows of a template in this build: its window sets merged and sorted."""
        sets = {"windows": spine.windows, "short_windows": spine.short}
        sets["change_windows"] = spine.changes
        sets["session_windows"] = spine.sessions
        return tuple(sorted({w for s in self.window_sets for w in sets[s]}))

    def column(self, x: ibis.Table, window: int | None = None) -> tuple[str, ibis.Value]:
        """The output column's name and value for one window (None unless windowed)."""
        if self.rank is not None:
            return self.name, x[rank_column(self.name)]
        if window is None:
            return self.name, self.expression(x)
        return self.name.replace(WINDOW, str(window)), self.expression(x, window)

    def columns(self, x: ibis.Table, spine: Spine) -> dict[str, ibis.Value]:
        """Every column of the feature in this build (one per window for a template)."""
        if not self.windowed:
            return dict([self.column(x)])
        return dict(self.column(x, w) for w in self.windows(spine))

    def available(self, data: DataSet) -> Feature | None:
        """The feature when ``data`` has everything it requires, else None."""
        return self if all(_present(data, r) for r in self.requires) else None


@dataclass(frozen=True)
class PerWindow:
    """Templates of the same window sets whose columns come out window by window
    (``trades_7d``, ``active_trading_days_7d``, ``trades_14d``, ...) rather than template by
    template: the column order that the models were trained on."""

    features: tuple[Feature, ...]

    def __post_init__(self) -> None:
        if not self.features or any(not f.windowed for f in self.features):
            raise ValueError(f"PerWindow takes windowed templates, got {self._names()}")
        if len({f.window_sets for f in self.features}) > 1:
            raise ValueError(f"PerWindow templates {self._names()} differ in window sets")

    @property
    def members(self) -> tuple[Feature, ...]:
        return self.features

    def columns(self, x: ibis.Table, spine: Spine) -> dict[str, ibis.Value]:
        windows = self.features[0].windows(spine)
        return dict(f.column(x, w) for w in windows for f in self.features)

    def available(self, data: DataSet) -> PerWindow | None:
        """The templates that ``data`` can build, or None when there are none."""
        kept = tuple(f for f in self.features if f.available(data) is not None)
        return replace(self, features=kept) if kept else None

    def _names(self) -> list[str]:
        return [f.name for f in self.features]


Entry = Feature | PerWindow


@dataclass(frozen=True)
class Family:
    """A feature family: its name and its features in output order."""

    name: str
    entries: tuple[Entry, ...]

    @property
    def features(self) -> tuple[Feature, ...]:
        """Every declared feature of the family, in output order."""
        return tuple(f for entry in self.entries for f in entry.members)

    def part(self, data: DataSet, spine: Spine, config: FeatureConfig) -> Part | None:
        """The family's sources and expressions for the features ``data`` can build; None when
        it can build none (e.g. no balances for the assets family)."""
        entries = [e for e in (entry.available(data) for entry in self.entries) if e is not None]
        if not entries:
            return None
        features = [f for entry in entries for f in entry.members]
        sources = [build(data, spine) for build in _distinct_sources(features)]
        ranked = [f for f in features if f.rank is not None]

        def columns(x: ibis.Table) -> dict[str, ibis.Value]:
            out: dict[str, ibis.Value] = {}
            for entry in entries:
                out |= entry.columns(x, spine)
            return out

        def ranks(x: ibis.Table) -> dict[str, Rank]:
            return {rank_column(f.name): f.rank(x, config) for f in ranked}

        return Part(self.name, sources, columns, ranks if ranked else None)


def rank_column(name: str) -> str:
    """The internal column holding the rank of the ranked feature ``name``."""
    return f"_{name}"


def _distinct_sources(features: Sequence[Feature]) -> Iterator[SourceFunction]:
    """Each source function the features read, once, in order of first use."""
    return iter(dict.fromkeys(s for f in features for s in f.sources))


def _present(data: DataSet, requirement: str) -> bool:
    table, _, column = requirement.partition(".")
    return data.has_column(table, column) if column else data.has(table)


def _check_feature(f: Feature) -> None:
    """Reject a declaration that could not be built or described, naming the feature."""
    where = f"feature {f.name!r}"
    if not f.name or not f.unit:
        raise ValueError(f"{where}: 'name' and 'unit' must not be empty")
    if f.risk_direction not in RISK_DIRECTIONS:
        raise ValueError(f"{where}: 'risk_direction' must be one of {list(RISK_DIRECTIONS)}")
    if (f.expression is None) == (f.rank is None):
        raise ValueError(f"{where}: declare exactly one of 'expression' and 'rank'")
    if f.rank is not None and f.windowed:
        raise ValueError(f"{where}: a ranked feature cannot be windowed")
    if not f.window_sets or any(s not in WINDOW_SETS for s in f.window_sets):
        raise ValueError(f"{where}: 'window_sets' must name some of {list(WINDOW_SETS)}")
    if f.kind not in KINDS:
        raise ValueError(f"{where}: 'kind' must be one of {list(KINDS)}")
    if f.kind == "category" and f.windowed:
        raise ValueError(f"{where}: a categorical feature cannot be windowed")
    if f.categories is not None and f.kind != "category":
        raise ValueError(f"{where}: only a categorical feature has 'categories'")
    _check_requires(f, where)


def _check_requires(f: Feature, where: str) -> None:
    if not f.requires:
        raise ValueError(f"{where}: 'requires' must name at least one table")
    for requirement in f.requires:
        table, _, column = requirement.partition(".")
        known = table in TABLES and (
            not column or any(c.name == column for c in TABLES[table].columns)
        )
        if not known:
            raise ValueError(
                f"{where}: requires {requirement!r}, not a contract table or 'table.column'"
            )
