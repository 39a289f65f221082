"""The feature registry: every declared feature with its words, for the scorer's reasons,
the docs and the grouping of columns by family.

A feature's identity and metadata (family, unit, requirements, risk direction, window sets,
categories) are declared once, with its expression, in its family module (see ``definition``
and ``catalog``); ``features/registry.yaml`` holds only the words, keyed by the declared name:
``description`` / ``description_zh`` and the reason templates ``reason_en`` / ``reason_zh``.
``load_registry`` joins the two and fails when a declared feature has no words or words name
no declared feature. A windowed template (``trades_{w}d``) is expanded once per window of its
window sets (``windows``, ``short_windows``, ``change_windows`` of the feature configuration):
``{w}`` is replaced in the name and all texts, e.g. ``trades_{w}d`` over
``[windows, short_windows]`` gives ``trades_7d`` ... ``trades_365d``. Reason templates are
``str.format`` strings filled by the scorer: ``{value}`` is the feature's own value and any
other placeholder names another output column of the same row (``{active_trading_days_30d}``),
with the usual format specs (``{value:.0%}``, ``{value:,.0f}``). ``FeatureSpec.reason`` fills
one.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from valuemodel.errors import InputError
from valuemodel.features.catalog import DECLARED
from valuemodel.features.config import FAMILIES, FeatureConfig, default_config_dir
from valuemodel.features.definition import WINDOW, Feature
from valuemodel.io import read_yaml

WORDS = ("description", "description_zh", "reason_en", "reason_zh")
"""The keys of a feature's entry in ``features/registry.yaml``."""


def days_ago(days: Any, lang: str = "en") -> str:
    """A template's ``{value:ago}``: days before the as-of date in words ("75 days ago",
    "75天前"; 0 is the as-of date itself, not "0 days ago")."""
    n = round(float(days))
    if lang == "zh":
        return "统计日当天" if n == 0 else f"{n:,}天前"
    if n == 0:
        return "on the as-of date"
    return "1 day ago" if n == 1 else f"{n:,} days ago"


class _Words(string.Formatter):
    """``str.format`` with the ``ago`` spec of :func:`days_ago`."""

    def __init__(self, lang: str):
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> Any:
        if format_spec == "ago":
            return days_ago(value, self.lang)
        return super().format_field(value, format_spec)


@dataclass(frozen=True)
class FeatureSpec:
    """One feature (or a windowed template when ``window`` is None and the name has ``{w}``):
    its declaration (see ``definition.Feature``) with its words.

    ``risk_direction``: ``higher`` when higher values go with more churn risk, ``lower`` when
    lower values do, ``none`` when neither. ``requires``: the tables (or ``table.column``) it
    needs. ``window_sets``: the configuration's window sets a template is expanded over.
    ``categories``: the fixed categories of a categorical feature (None: observed values).
    """

    name: str
    family: str
    unit: str
    description: str
    description_zh: str
    reason_en: str
    reason_zh: str
    risk_direction: str
    kind: str = "numeric"
    requires: tuple[str, ...] = ()
    template: str = ""
    window: int | None = None
    window_sets: tuple[str, ...] = ("windows",)
    categories: tuple[str, ...] | None = None
    market: bool = False

    @property
    def windowed(self) -> bool:
        return WINDOW in (self.template or self.name)

    def expand(self, window: int) -> FeatureSpec:
        """The concrete feature of a windowed template for ``window`` days."""
        w = str(window)
        return replace(
            self,
            name=self.name.replace(WINDOW, w),
            description=self.description.replace(WINDOW, w),
            description_zh=self.description_zh.replace(WINDOW, w),
            reason_en=self.reason_en.replace(WINDOW, w),
            reason_zh=self.reason_zh.replace(WINDOW, w),
            template=self.name,
            window=window,
        )

    def reason(self, values: Mapping[str, Any], lang: str = "en") -> str:
        """The reason sentence for one account: ``values`` maps feature names to values."""
        template = self.reason_zh if lang == "zh" else self.reason_en
        return _Words(lang).format(template, **{**dict(values), "value": values[self.name]})

    def placeholders(self) -> set[str]:
        """Names used by the reason templates (``value`` and other features)."""
        names = set()
        for template in (self.reason_en, self.reason_zh):
            for _, field, _, _ in string.Formatter().parse(template):
                if field is not None:
                    names.add(field)
        return names


@dataclass(frozen=True)
class FeatureRegistry:
    """The registry's entries (templates as declared, in output order); look features up by
    concrete name."""

    entries: tuple[FeatureSpec, ...]

    def __iter__(self) -> Iterator[FeatureSpec]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def __getitem__(self, name: str) -> FeatureSpec:
        spec = self.find(name)
        if spec is None:
            raise KeyError(f"{name!r} is not a registered feature")
        return spec

    def find(self, name: str) -> FeatureSpec | None:
        """The spec of a concrete column name (any window), or None."""
        for spec in self.entries:
            if not spec.windowed:
                if spec.name == name:
                    return spec
                continue
            pattern = re.escape(spec.name).replace(re.escape(WINDOW), r"(\d+)")
            match = re.fullmatch(pattern, name)
            if match:
                return spec.expand(int(match.group(1)))
        return None

    def specs(
        self,
        windows: Iterable[int] | None = None,
        short_windows: Iterable[int] | None = None,
        change_windows: Iterable[int] | None = None,
        session_windows: Iterable[int] | None = None,
    ) -> list[FeatureSpec]:
        """Every concrete feature in output order, windowed ones expanded per window of
        their window sets (each set defaults to ``FeatureConfig()``'s)."""
        default = FeatureConfig()
        given = {"windows": windows, "short_windows": short_windows}
        given |= {"change_windows": change_windows, "session_windows": session_windows}
        sets = {k: set(v if v is not None else getattr(default, k)) for k, v in given.items()}
        out: list[FeatureSpec] = []
        for spec in self.entries:
            if not spec.windowed:
                out.append(spec)
                continue
            ws = sorted(set().union(*(sets[k] for k in spec.window_sets)))
            out += [spec.expand(w) for w in ws]
        return out

    def names(
        self,
        windows: Iterable[int] | None = None,
        short_windows: Iterable[int] | None = None,
        change_windows: Iterable[int] | None = None,
        session_windows: Iterable[int] | None = None,
    ) -> list[str]:
        specs = self.specs(windows, short_windows, change_windows, session_windows)
        return [s.name for s in specs]

    def for_columns(self, columns: Iterable[str]) -> list[FeatureSpec]:
        """The specs of the registered columns among ``columns`` (keys and others skipped)."""
        return [s for c in columns if (s := self.find(c)) is not None]

    def family(self, family: str) -> list[FeatureSpec]:
        return [s for s in self.entries if s.family == family]


def load_registry(path: str | Path | None = None) -> FeatureRegistry:
    """Every declared feature, in output order, with its words from ``features/registry.yaml``
    (or ``path``).

    Raises ``InputError`` naming the file and the features when a declared feature has no
    words, words name a feature nobody declares, an entry misses a word or has other keys, or
    a reason template does not parse or names an unknown feature.
    """
    path = Path(path) if path is not None else default_config_dir() / "registry.yaml"
    words = _read_words(path)
    declared = {f.name: (family.name, f) for family in DECLARED.values() for f in family.features}
    missing = [name for name in declared if name not in words]
    if missing:
        raise InputError(f"{path}: no words for declared feature(s) {missing}")
    unknown = [name for name in words if name not in declared]
    if unknown:
        raise InputError(f"{path}: words for feature(s) nobody declares {unknown}")
    registry = FeatureRegistry(
        tuple(_spec(family, f, words[name], path) for name, (family, f) in declared.items())
    )
    _check_placeholders(registry, path)
    return registry


def _read_words(path: Path) -> dict[str, Any]:
    """The ``features`` mapping of a registry file: feature name -> its words."""
    if not path.is_file():
        raise InputError(f"{path}: feature registry not found")
    raw = read_yaml(path) or {}
    words = raw.get("features") if isinstance(raw, dict) else None
    if not isinstance(words, dict):
        raise InputError(f"{path}: expected a top-level 'features' mapping of names to words")
    return words


def _spec(family: str, feature: Feature, words: Any, path: Path) -> FeatureSpec:
    """The declaration of ``feature`` joined with its words, each word checked."""
    where = f"{path}: feature '{feature.name}'"
    if not isinstance(words, dict):
        raise InputError(f"{where}: expected a mapping of {list(WORDS)}")
    empty = [k for k in WORDS if not isinstance(words.get(k), str) or not words[k].strip()]
    if empty:
        raise InputError(f"{where}: missing or empty key(s) {empty}")
    other = sorted(set(words) - set(WORDS))
    if other:
        raise InputError(
            f"{where}: unknown key(s) {other}; only the words {list(WORDS)} are kept here, the"
            f" rest is declared with the feature in src/valuemodel/features/{family}.py"
        )
    return FeatureSpec(
        name=feature.name,
        family=family,
        unit=feature.unit,
        **{k: words[k].strip() for k in WORDS},
        risk_direction=feature.risk_direction,
        kind=feature.kind,
        requires=feature.requires,
        window_sets=feature.window_sets,
        categories=feature.categories,
        market=feature.market,
    )


def _check_placeholders(registry: FeatureRegistry, path: Path) -> None:
    """Every reason template parses and names only ``value`` and registered features
    (checked on the templates expanded over the default windows)."""
    for spec in registry.specs():
        try:
            names = spec.placeholders() - {"value"}
        except ValueError as exc:
            where = f"{path}: feature '{spec.name}'"
            raise InputError(f"{where}: reason template does not parse ({exc})") from exc
        unknown = sorted(n for n in names if n not in registry)
        if unknown:
            raise InputError(
                f"{path}: feature '{spec.name}': reason names unknown feature(s) {unknown}"
            )


def render_feature_docs(registry: FeatureRegistry) -> str:
    """``docs/features.md``: the registry as Markdown, one table per family."""
    lines = _docs_intro()
    for family in FAMILIES:
        specs = registry.family(family)
        if specs:
            lines += _family_table(family, specs)
    lines += _CONVENTIONS
    return "\n".join(lines)


def _docs_intro() -> list[str]:
    default = FeatureConfig()
    windows = ", ".join(str(w) for w in default.windows)
    short = ", ".join(str(w) for w in default.short_windows)
    changes = ", ".join(str(w) for w in default.change_windows)
    sessions = ", ".join(str(w) for w in default.session_windows)
    return [
        "# Features",
        "",
        "<!-- Generated by valuemodel.features.render_feature_docs from the declarations in"
        " src/valuemodel/features/<family>.py and the words in features/registry.yaml"
        " (make docs); do not edit by hand. -->",
        "",
        "One row per account in the population at each as-of date `T`; every feature uses rows"
        " dated on or before `T` only. A window of `w` days is the period `(T - w, T]`;"
        f" windowed features (`{{w}}`) are computed for each configured window (default {windows}"
        " days, `features/default.yaml`); those marked *+short* also for each short window"
        f" (`short_windows`, default {short} days), those marked *change* for each change"
        f" window (`change_windows`, default {changes} days) instead, comparing the state at"
        " `T` with the state at `T - w`; those marked *sessions* for each session window"
        f" (`session_windows`, default {sessions} trading days of the exchange calendar"
        f" `calendar`, default {default.calendar}, from `exchange_calendars`): the last `w`"
        " sessions up to `T`, a day without a session (weekend, holiday) counting with the"
        " session before it. A feature is built only when the tables (or columns)"
        " it *needs* are present. *Risk* says whether higher or lower values go with more"
        " churn risk.",
        "",
    ]


def _family_table(family: str, specs: list[FeatureSpec]) -> list[str]:
    lines = [f"## {family.capitalize()}", ""]
    lines += [
        "| feature | unit | needs | risk | description | 说明 |",
        "|---|---|---|---|---|---|",
    ]
    for s in specs:
        cells = [
            f"`{s.name}`" + _window_note(s),
            s.unit + (f": {', '.join(s.categories)}" if s.categories else ""),
            ", ".join(s.requires),
            s.risk_direction,
            s.description,
            s.description_zh,
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return [*lines, ""]


def _window_note(spec: FeatureSpec) -> str:
    """`` (+short)``, `` (change)``, ... for templates beyond the configured windows."""
    if not spec.windowed or spec.window_sets == ("windows",):
        return ""
    words = {"windows": "", "short_windows": "short", "change_windows": "change"}
    words["session_windows"] = "sessions"
    sets = [words[w] for w in spec.window_sets]
    if "windows" in spec.window_sets:
        return " (" + ", ".join(f"+{w}" for w in sets if w) + ")"
    return " (" + ", ".join(sets) + ")"


_CONVENTIONS = [
    "## Conventions",
    "",
    "- **Output**: `build_features(data, as_of)` returns `account_id` (str), `as_of`"
    " (`datetime64[ns]`, midnight), then the features: numeric as float64, categorical"
    " (`loyalty_stage` and the profile attributes) as pandas `category` (fixed categories for"
    " gender, risk level, investor type and loyalty stage; observed values for channel and"
    " branch). Rows: the population at each as-of date, sorted by (as_of, account_id).",
    "- **Population at T**: opened on or before T, not closed on or before T, and"
    " `total_assets` at T >= `min_assets` (default 1,000); without balances, a trade in"
    " `(T - 365, T]`.",
    "- **Latest snapshot on or before T** (balances, positions): the snapshot with the"
    " greatest date <= T, however old.",
    "- **Zero or null**: counts and sums over a window are 0 when nothing happened; ratios are"
    " null when their denominator is 0 or absent; `days_since_*` is null when the event never"
    " happened.",
    "- **Trading days** (`trading_days_since_*`, `*_{w}td`): counted in sessions of the"
    " configured exchange calendar (`calendar`, from `exchange_calendars`; no holiday list is"
    " kept in the package). `trading_days_since_*` is the number of sessions after the event"
    " up to the last session on or before `T`: 0 when the event was on that session (or on the"
    " weekend or holiday after it), so a Friday, the following Sunday and a holiday Monday give"
    " the same value; a Monday session without the event adds one. Sessions are counted from"
    " 1990-01-01; an earlier event counts as on that day.",
    "- **RFM** scores are `floor(5 * rank / n) + 1` within the as-of date (0-based rank, ties"
    " share the lowest rank, 5 = best). **Loyalty stage**: new (tenure < 180 days), then by"
    " active months of the last 12: potential 0-2, regular 3-6, mature 7-10, loyal 11-12.",
    "- **Labels** (`build_labels`): `churn` over `(T, T + H]` (assets: closed, or total assets"
    " at T + H below 20 % of those at T; inactivity: no trade), `value` = revenue in"
    " `(T, T + V]`; NaN when the window ends after the data's end date.",
    "",
    "## Reasons",
    "",
    "Each feature carries a reason template in English and Chinese (`reason_en`, `reason_zh`"
    " in the registry) that the scorer fills with the account's values: `{value}` is the"
    " feature itself, other placeholders name other features of the same row, e.g."
    ' `FeatureSpec.reason({"outflow_share_30d": 0.35})` gives "moved 35% of assets out in 30'
    ' days".',
    "",
]
