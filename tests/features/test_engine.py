"""engine.materialize: a temporary table that can be replaced under the same name."""

from __future__ import annotations

import ibis

from valuemodel import engine


def test_materialize_creates_and_replaces_a_temporary_table():
    con = engine.connect()
    t = ibis.memtable({"a": [1, 2, 3]})
    first = engine.materialize(con, "scratch", t)
    assert engine.execute(first.count()) == 3
    second = engine.materialize(con, "scratch", t.filter(t.a > 1))
    assert engine.execute(second.count()) == 2
