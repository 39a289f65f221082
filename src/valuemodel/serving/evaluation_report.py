"""``evaluation.html``: the evaluation of a past list as one self-contained page, and writing
it with ``evaluation.json`` atomically.

Plots are matplotlib figures embedded as base64 PNG; the page loads nothing from elsewhere and
shows aggregates only (no account id). The template is Jinja2 with autoescaping on.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from valuemodel.serving.writers import staged, write_json

JSON_NAME, HTML_NAME = "evaluation.json", "evaluation.html"

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Did the list work? {{ e.as_of }}</title>
<style>
body{font-family:-apple-system,"Segoe UI",Roboto,"Noto Sans SC",sans-serif;margin:0;
 background:#f4f6f8;color:#1d2733}
main{max-width:1120px;margin:0 auto;padding:24px 32px 48px}
header{background:#1d3557;color:#fff;padding:24px 32px} header h1{margin:0 0 6px}
h2{font-size:19px;margin:32px 0 10px;border-bottom:2px solid #d9dee5;padding-bottom:4px}
.note{color:#56606b;font-size:14px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
.card{background:#fff;border-radius:8px;padding:12px 14px;min-width:150px;flex:1;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card .label{font-size:13px;color:#56606b} .card .value{font-size:26px;font-weight:600}
figure{background:#fff;margin:8px 0 16px;padding:12px;border-radius:8px;text-align:center}
figure img{max-width:100%} .pair{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table{border-collapse:collapse;background:#fff;font-size:14px;margin:8px 0}
th,td{padding:5px 12px;border-bottom:1px solid #e3e7ec;text-align:right}
th:first-child,td:first-child{text-align:left} thead th{background:#eef1f5}
</style></head><body>
<header><h1>Did the list work?</h1>
<p>List as of {{ e.as_of }}, judged on data through {{ e.data_end }}
 (churn definition: {{ e.churn_definition }}).</p>
<p>Models: {% for k, v in e.models.items() %}{{ k }} v{{ v.version }} ({{ v.alias }}){%
 if not loop.last %}, {% endif %}{% endfor %}</p></header>
<main>
<div class="cards">
 <div class="card"><div class="label">churn ROC-AUC</div><div class="value">{{
  f(e.churn.roc_auc, 3) }}</div></div>
 <div class="card"><div class="label">churn PR-AUC</div><div class="value">{{
  f(e.churn.pr_auc, 3) }}</div></div>
 <div class="card"><div class="label">calibration error (ECE)</div><div class="value">{{
  f(e.churn.ece, 3) }}</div></div>
 <div class="card"><div class="label">churners / accounts</div><div class="value">{{
  e.churn.churners }} / {{ e.churn.n }}</div></div>
 <div class="card"><div class="label">value Spearman</div><div class="value">{{
  f(e.value.spearman, 3) }}</div></div>
</div>
<h2>Horizons</h2>
<table><thead><tr><th>label</th><th>days</th><th>window ends</th><th>complete</th></tr></thead>
{% for name, h in e.horizons.items() %}<tr><td>{{ name }}</td><td>{{ h.days }}</td>
<td>{{ h.until }}</td><td>{{ "yes" if h.complete else "not yet" }}</td></tr>{% endfor %}
</table>
{% for n in e.notes %}<p class="note">{{ n }}</p>{% endfor %}
{% if e.estimate %}<h2>Expected at scoring time vs realised</h2>
<p class="note">Both on the same rows: the {{ e.accounts.with_outcome }} listed accounts with
 an outcome (the top K: those of the first K rows with an outcome).</p>
<table><thead><tr><th></th><th>expected</th><th>realised</th></tr></thead>
<tr><td>ROC-AUC</td><td>{{ f(e.estimate.roc_auc.expected, 3) }}</td>
<td>{{ f(e.estimate.roc_auc.realised, 3) }}</td></tr>
<tr><td>churners</td><td>{{ f(e.estimate.churners.expected, 1) }}</td>
<td>{{ e.estimate.churners.realised }}</td></tr>
{% for k, v in e.estimate.top.items() %}<tr><td>churners in the top {{ k }}</td>
<td>{{ f(v.expected, 1) }}</td><td>{{ v.realised if v.realised is not none else "-" }}</td>
</tr>{% endfor %}</table>{% endif %}
<h2>Churn: who did the list point at?</h2>
<table><thead><tr><th>top K of the list</th><th>churners expected</th><th>found</th>
<th>share of all churners</th><th>lost value captured (CNY)</th><th>share</th></tr></thead>
{% for r in e.churn.top %}<tr><td>{{ r.k }}</td><td>{{ f(r.expected_churners, 1) }}</td>
<td>{{ r.churners }}</td><td>{{ pct(r.churner_share) }}</td><td>{{ money(r.lost_value) }}</td>
<td>{{ pct(r.lost_value_share) }}</td></tr>{% endfor %}</table>
<div class="pair">{% for name in ("reliability", "capture") if name in figures %}
<figure><img alt="{{ name }}" src="data:image/png;base64,{{ figures[name] }}"></figure>
{% endfor %}</div>
<table><thead><tr><th>probability bin</th><th>accounts</th><th>predicted</th><th>observed</th>
</tr></thead>{% for r in e.churn.reliability %}<tr><td>{{ r.bin }}</td><td>{{ r.n }}</td>
<td>{{ pct(r.predicted) }}</td><td>{{ pct(r.observed) }}</td></tr>{% endfor %}</table>
<h2>Value: predicted vs realised by decile</h2>
{% if e.value.deciles %}{% if "deciles" in figures %}<figure><img alt="deciles"
 src="data:image/png;base64,{{ figures.deciles }}"></figure>{% endif %}
<table><thead><tr><th>decile</th><th>accounts</th><th>predicted (CNY)</th>
<th>realised (CNY)</th></tr></thead>{% for r in e.value.deciles %}<tr><td>{{ r.decile }}</td>
<td>{{ r.n }}</td><td>{{ money(r.predicted) }}</td><td>{{ money(r.realised) }}</td></tr>
{% endfor %}</table>{% else %}<p class="note">The value window is not complete yet.</p>
{% endif %}
{% for column, groups in e.by.items() %}<h2>By {{ column }}</h2>
<table><thead><tr><th>{{ column }}</th><th>accounts</th><th>churners</th><th>churn rate</th>
<th>ROC-AUC</th><th>PR-AUC</th><th>ECE</th><th>value Spearman</th></tr></thead>
{% for key, g in groups.items() %}<tr><td>{{ key }}</td><td>{{ g.n }}</td>
<td>{{ g.churners }}</td><td>{{ pct(g.churn_rate) }}</td><td>{{ f(g.roc_auc, 3) }}</td>
<td>{{ f(g.pr_auc, 3) }}</td><td>{{ f(g.ece, 3) }}</td><td>{{ f(g.value_spearman, 3) }}</td>
</tr>{% endfor %}</table>{% endfor %}
<h2>Did contacting help? Treated vs control</h2>
{% if not e.control.present %}<p class="note">{{ e.control.note }}</p>{% else %}
<p>Reported: <b>{{ e.control.analysis }}</b>. {{ e.control.overall.verdict }}.</p>
{% if "control" in figures %}<figure><img alt="control"
 src="data:image/png;base64,{{ figures.control }}"></figure>{% endif %}
{% for title, groups in (("overall", {"all listed accounts": e.control.overall}),
 ("by service segment", e.control.by_service_segment or {}),
 ("by recommended action", e.control.by_recommended_action or {})) %}
<h3>{{ title }}</h3><table><thead><tr><th>group</th><th>treated</th><th>control</th>
<th>churn rate treated / control</th><th>difference (95% interval)</th>
<th>retained revenue (CNY), difference</th><th>share of assets retained, difference</th>
<th>verdict</th>
</tr></thead>{% for key, g in groups.items() %}<tr><td>{{ key }}</td><td>{{ g.treated }}</td>
<td>{{ g.control }}</td><td>{{ pct(g.churn_rate.treated_mean) }} / {{
 pct(g.churn_rate.control_mean) }}</td><td>{{ interval(g.churn_rate, pct) }}</td>
<td>{{ interval(g.retained_revenue, money) }}</td><td>{{ interval(g.retained_assets, points) }}
</td><td>{{ g.verdict }}</td></tr>{% endfor %}</table>{% endfor %}{% endif %}
{% if e.fairness %}<h2>The same quality for every age group and gender</h2>
<p class="note">Top of the list: the first {{ pct(e.fairness.top_share) }} of the accounts
 with an outcome. A group's share of the top's churners should be close to its share of all
 churners.</p>
{% for w in e.fairness.warnings %}<p class="note"><b>warning:</b> {{ w }}</p>{% endfor %}
<table><thead><tr><th>group</th><th>accounts</th><th>share</th><th>predicted churn</th>
<th>observed churn</th><th>ECE</th><th>ROC-AUC</th><th>share of churners</th>
<th>share of the top's churners</th><th>share of the top's lost value</th></tr></thead>
{% for r in e.fairness.table %}<tr><td>{{ r.dimension }}: {{ r.group }}</td><td>{{ r.n }}</td>
<td>{{ pct(r.population_share) }}</td>{% if r.scored %}<td>{{ pct(r.mean_predicted) }}</td>
<td>{{ pct(r.observed_rate) }}</td><td>{{ f(r.ece, 3) }}</td><td>{{ f(r.roc_auc, 3) }}</td>
<td>{{ pct(r.churner_share) }}</td><td>{{ pct(r.top_churner_share) }}</td>
<td>{{ pct(r.top_lost_value_share) }}</td>{% else %}<td colspan="7">too few accounts to
 judge</td>{% endif %}</tr>{% endfor %}</table>{% endif %}
{% if e.challenger %}<h2>Champion vs challenger ({{ e.challenger.alias }})</h2>
{% if not e.challenger.basis %}<p class="note">No verdict: {{ e.challenger.note }}</p>
{% else %}
<p>Judged on the {{ e.challenger.n }} control accounts with an outcome, which neither model's
 list had contacted: {{ e.challenger.verdict }}.</p>
<table><thead><tr><th>model</th><th>ROC-AUC</th><th>PR-AUC</th><th>ECE</th>
<th>value Spearman</th></tr></thead>{% for name in ("champion", "challenger") %}
{% set c = e.challenger[name] %}<tr><td>{{ name }}</td><td>{{ f(c.roc_auc, 3) }}</td>
<td>{{ f(c.pr_auc, 3) }}</td><td>{{ f(c.ece, 3) }}</td><td>{{ f(c.value_spearman, 3) }}</td>
</tr>{% endfor %}</table>{% endif %}{% endif %}
</main></body></html>
"""


def _missing(value: Any) -> bool:
    """None or NaN (a statistic a group cannot have, e.g. ROC-AUC without churners)."""
    return value is None or (isinstance(value, float) and value != value)


def _f(value: Any, digits: int = 3) -> str:
    return "-" if _missing(value) else f"{value:,.{digits}f}"


def _pct(value: Any) -> str:
    return "-" if _missing(value) else f"{value:.1%}"


def _points(value: Any) -> str:
    """A difference of two shares, in percentage points with its sign."""
    return "-" if _missing(value) else f"{value * 100:+.1f} pts"


def _money(value: Any) -> str:
    return "-" if _missing(value) else f"{value:,.0f}"


def _interval(entry: Any, fmt) -> str:
    if not entry or entry.get("difference") is None:
        return "-"
    low, high = entry["interval"]
    return f"{fmt(entry['difference'])} ({fmt(low)} to {fmt(high)})"


def render_evaluation(evaluation: dict[str, Any]) -> str:
    """The HTML page for an evaluation document."""
    from jinja2 import Environment

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(_TEMPLATE)
    return template.render(
        e=evaluation,
        figures=_figures(evaluation),
        f=_f,
        pct=_pct,
        money=_money,
        points=_points,
        interval=_interval,
    )


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figures(e: dict[str, Any]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    out = {}
    if e["churn"].get("reliability"):
        out["reliability"] = _png(reliability_figure(e["churn"]["reliability"]))
    if e["churn"].get("top"):
        out["capture"] = _png(capture_figure(e["churn"]["top"]))
    if e["value"].get("deciles"):
        out["deciles"] = _png(deciles_figure(e["value"]["deciles"]))
    if e["control"].get("present"):
        out["control"] = _png(control_figure(e["control"]))
    return out


def reliability_figure(rows: list[dict[str, Any]]):
    """Observed churn rate against mean predicted probability per bin, with the diagonal."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    top = max([0.05, *(max(r["predicted"] or 0, r["observed"] or 0) for r in rows)])
    ax.plot([0, top], [0, top], color="#999", linestyle="--", label="perfect calibration")
    ax.plot(
        [r["predicted"] for r in rows],
        [r["observed"] for r in rows],
        marker="o",
        color="#1d3557",
        label="this list",
    )
    ax.set(xlabel="predicted churn probability", ylabel="observed churn rate")
    ax.set_title("Reliability")
    ax.legend()
    return fig


def capture_figure(rows: list[dict[str, Any]]):
    """Share of churners and of lost value found in the first K rows of the list."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    labels = [str(r["k"]) for r in rows]
    x = range(len(rows))
    ax.bar([i - 0.2 for i in x], [r["churner_share"] or 0 for r in rows], 0.4, label="churners")
    ax.bar([i + 0.2 for i in x], [r["lost_value_share"] or 0 for r in rows], 0.4, label="value")
    ax.set_xticks(list(x), labels)
    ax.set(xlabel="first K rows of the list", ylabel="share captured", ylim=(0, 1))
    ax.set_title("Churners and lost value captured")
    ax.legend()
    return fig


def deciles_figure(rows: list[dict[str, Any]]):
    """Predicted and realised revenue per decile of predicted value."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    x = [r["decile"] for r in rows]
    ax.bar([i - 0.2 for i in x], [r["predicted"] for r in rows], 0.4, label="predicted")
    ax.bar([i + 0.2 for i in x], [r["realised"] for r in rows], 0.4, label="realised")
    ax.set(xlabel="decile of predicted value (1 = highest)", ylabel="revenue (CNY)")
    ax.legend()
    return fig


def control_figure(control: dict[str, Any]):
    """Churn rate difference (treated - control) with its interval, overall and per segment
    (segments too small to conclude have no interval and are left out)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    groups = {"overall": control["overall"], **control.get("by_service_segment", {})}
    shown = [(k, g["churn_rate"]) for k, g in groups.items() if g["churn_rate"].get("interval")]
    fig, ax = plt.subplots(figsize=(6, 0.6 * max(len(shown), 1) + 1.2))
    for i, (_, entry) in enumerate(shown):
        low, high = entry["interval"]
        ax.plot([low, high], [i, i], color="#1d3557")
        ax.plot(entry["difference"], i, "o", color="#e63946")
    ax.axvline(0, color="#999", linestyle="--")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_yticks(range(len(shown)), [k for k, _ in shown])
    ax.set(xlabel="churn rate, treated minus control (95% interval)")
    if not shown:
        ax.set_title("groups too small to conclude")
    return fig


def write_evaluation(evaluation: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """``evaluation.json`` and ``evaluation.html`` in ``out_dir``, replaced together or not at
    all."""
    html = render_evaluation(evaluation)
    paths = [out_dir / JSON_NAME, out_dir / HTML_NAME]
    with staged(paths) as (t_json, t_html):
        write_json(evaluation, t_json)
        t_html.write_text(html, encoding="utf-8")
    return paths[0], paths[1]
