"""Assembling the feature families on the population spine, and running them.

``feature_expr`` builds one Ibis expression for any number of as-of dates (one plan, one scan
per source table); ``build_features`` has the engine execute it and returns pandas with the
documented dtypes: ``account_id`` string, ``as_of`` ``datetime64[ns]`` (midnight of the as-of
date), numeric features float64, categorical features pandas ``category``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from valuemodel import engine
from valuemodel.data.reader import DataSet
from valuemodel.features.asof import ORDER, Spine
from valuemodel.features.catalog import DECLARED, categorical_columns
from valuemodel.features.config import FeatureConfig, load_feature_config
from valuemodel.features.parts import Part, assemble
from valuemodel.features.population import make_spine
from valuemodel.features.sample import AccountSample

AsOf = date | str | Sequence[date | str]


def feature_expr(data: DataSet, as_of_dates: AsOf, config: FeatureConfig | None = None):
    """The feature table as an un-executed Ibis expression.

    One row per account in the population at each as-of date, sorted by (as_of, account_id):
    ``account_id``, ``as_of`` (date), then each enabled family's features. A feature whose
    required tables (or columns) are absent is left out.
    """
    return _features(data, as_of_dates, config).order_by(list(ORDER))


def feature_table(data: DataSet, as_of_dates: AsOf, config: FeatureConfig | None = None):
    """:func:`feature_expr` without its final sort: for an engine that keeps the rows (Spark
    scoring), where a global sort would only be undone by the next step."""
    return _features(data, as_of_dates, config)


def _features(data: DataSet, as_of_dates: AsOf, config: FeatureConfig | None) -> ibis.Table:
    config = config or load_feature_config()
    spine = make_spine(data, as_of_dates, config)
    return assemble(spine, family_parts(data, spine, config))


def family_parts(data: DataSet, spine: Spine, config: FeatureConfig) -> list[Part]:
    """The parts of the enabled families that ``data`` can build features of, in output
    order (see ``definition.Family.part``)."""
    parts = [DECLARED[name].part(data, spine, config) for name in config.families]
    return [p for p in parts if p is not None]


def build_features(
    data: DataSet,
    as_of: AsOf,
    config: FeatureConfig | None = None,
    sample: AccountSample | None = None,
) -> pd.DataFrame:
    """Features per account and as-of date as a pandas DataFrame.

    Input: a DataSet (``open_data``) and one or more as-of dates ``T``; only rows dated on or
    before each ``T`` are used. Output columns: ``account_id`` (str), ``as_of``
    (``datetime64[ns]``), then the features (see ``docs/features.md``): numeric as float64,
    categorical as ``category``. Rows: the population at each ``T``, sorted by
    (as_of, account_id). ``sample``: only the sampled accounts' rows, filtered by the engine
    (each with the values of a full build; :mod:`valuemodel.features.sample`).
    """
    expr = _features(data, as_of, config)
    if sample is not None:
        expr = sample.filter(expr)
    # Unordered in the engine: sorting the Arrow result (to_frame) is cheaper than DuckDB's
    # ORDER BY, which holds a sorted copy of the whole result while it is converted.
    return to_frame(engine.to_pyarrow(expr), release=True)


def to_frame(df: pd.DataFrame | pa.Table, release: bool = False) -> pd.DataFrame:
    """Normalise an executed feature (or label) table to the documented dtypes.

    ``df`` is Arrow, or pandas (converted to Arrow first), converted column by column with
    Arrow's own kernels: one copy per column, no pandas copy of the whole table. With
    ``release``, the caller hands an Arrow table over: each column is let go once converted,
    so that the Arrow and pandas copies never both exist whole. Rows are sorted by
    (as_of, account_id) unless they already are.
    """
    if isinstance(df, pd.DataFrame):
        df, release = pa.Table.from_pandas(df, preserve_index=False), True
    order = _arrow_order(df)
    columns = dict(zip(df.column_names, df.columns, strict=True))
    if release:
        del df
    categories = categorical_columns()
    out = {}
    for col in list(columns):
        values = columns.pop(col) if release else columns[col]
        out[col] = _from_arrow(col, values if order is None else values.take(order), categories)
    return pd.DataFrame(out, columns=list(out), copy=False)


def _arrow_order(table: pa.Table) -> pa.Array | None:
    """Row indices that sort ``table`` by (as_of, account_id); None when it already is."""
    if table.num_rows < 2 or not set(ORDER) <= set(table.column_names):
        return None
    order = pc.sort_indices(table.select(list(ORDER)), [(c, "ascending") for c in ORDER])
    if np.array_equal(order.to_numpy(), np.arange(table.num_rows)):
        return None
    return order


def _from_arrow(
    col: str, values: pa.ChunkedArray, categories: dict[str, tuple[str, ...] | None]
) -> Any:
    if col == "account_id":
        return values.to_pandas().astype("str")
    if col == "as_of":
        return values.cast(pa.timestamp("ns")).to_pandas()
    if col in categories:
        values = values.cast(pa.string())
        cats = categories[col]
        if cats is None:
            cats = sorted(pc.unique(values).drop_null().to_pylist())
        codes = pc.index_in(values, value_set=pa.array(cats, pa.string())).fill_null(-1)
        return pd.Categorical.from_codes(codes.to_numpy(), categories=list(cats))
    return values.cast(pa.float64()).to_numpy()
