"""deploy/grafana-dashboard.json is a Grafana dashboard whose queries read only real metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.metrics import REGISTRY
from tests.support.promql import exposed_names, metric_names

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana-dashboard.json"


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_the_dashboard_imports_with_a_prometheus_data_source() -> None:
    dashboard = load()
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["uid"] and dashboard["title"] == "Newswire"
    (source,) = dashboard["__inputs"]
    assert (source["name"], source["pluginId"]) == ("DS_PROMETHEUS", "prometheus")
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}"
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24


def test_every_query_reads_only_metrics_newswire_exposes() -> None:
    exposed = exposed_names(REGISTRY)
    assert "newswire_sends_total" in exposed and "newswire_send_seconds_bucket" in exposed
    for expr in exprs(load()):
        names = metric_names(expr)
        assert names, expr
        assert names <= exposed, f"{expr}: unknown {sorted(names - exposed)}"


def test_the_issue_asks_for_each_of_these() -> None:
    read = set().union(*(metric_names(e) for e in exprs(load())))
    assert read >= {
        "newswire_sends_total",
        "newswire_throttled_total",
        "newswire_deliveries",
        "newswire_oldest_pending_seconds",
        "newswire_send_seconds_bucket",
        "newswire_ingest_to_post_seconds_bucket",
        "newswire_feed_polls_total",
        "newswire_updates_total",
    }


def test_the_name_reader_is_not_fooled() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, method) (rate(x_bucket{le!="+Inf"}[5m])))'
        " / on (method) group_left max without (job) (y_total offset 1h)"
    )
    assert metric_names(expr) == {"x_bucket", "y_total"}
