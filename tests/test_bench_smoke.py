"""Smoke test of the benchmark harness: the quickest family, tiny sizes, a real report."""

from __future__ import annotations

from bench import render
from bench.report import markdown


def test_render_family_measures_and_reports() -> None:
    """The render family times every format against its baseline and the report shows it."""
    result = render.run(quick=True, sizes=(3,))
    assert [row[0] for row in result.tables[0].rows] == ["3 items RSS", "3 items ATOM",
                                                         "3 items JSON"]  # fmt: skip
    assert len(result.checks) == 5
    assert all(check.measured is not None and check.measured > 0 for check in result.checks)
    text = markdown([result], {"CPU": "test"}, ["render"], quick=True)
    assert "## Render" in text and "| CPU | test |" in text
    assert all(check.verdict in text for check in result.checks)
