from __future__ import annotations

from anbu.storage.migrate import load_migrations, plan


def test_each_version_is_one_migration_or_one_plain_timescale_pair() -> None:
    # Two files with one version would both claim it in schema_migrations; a gap is harmless
    # (work in parallel may leave one for a while).
    ms = load_migrations()
    versions = sorted({m.version for m in ms})
    assert versions[0] == 1
    assert len(ms) == len({(m.version, m.variant) for m in ms})
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
