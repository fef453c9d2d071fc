from __future__ import annotations

from anbu.storage.migrate import load_migrations, plan


def test_migrations_are_numbered_without_gaps_and_each_variant_pairs_up() -> None:
    ms = load_migrations()
    versions = sorted({m.version for m in ms})
    assert versions == list(range(1, len(versions) + 1))
    for v in versions:
        variants = {m.variant for m in ms if m.version == v}
        assert variants in ({"all"}, {"plain", "timescale"}), (v, variants)


def test_plan_picks_the_storage_flavour_and_skips_applied() -> None:
    ms = load_migrations()
    plain = plan(ms, set(), timescale=False)
    ts = plan(ms, set(), timescale=True)
    assert all(m.variant != "timescale" for m in plain)
    assert all(m.variant != "plain" for m in ts)
    assert [m.version for m in plain] == [m.version for m in ts]
    assert plan(ms, {m.version for m in ms}, timescale=False) == []
    assert "create_hypertable" in next(m.sql for m in ts if m.variant == "timescale")
