"""Hand-made feature frames, two small LightGBM models behind the loaded-model interface,
and a stand-in feature registry."""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from valuemodel.models import FeatureSchema

MODEL_FEATURES = [
    "days_since_last_trade",
    "tenure_days",
    "active_trading_days_90d",
    "active_trading_days_365d",
    "trading_days_trend",
    "revenue_365d",
    "effective_commission_rate",
    "total_assets",
    "asset_growth_365d",
    "outflow_share_30d",
    "unrealized_pnl_ratio",
    "risk_level",
]


def make_features(n: int, seed: int = 0, as_of: str = "2024-06-28") -> pd.DataFrame:
    """A plausible feature frame: ``account_id``, ``as_of``, then features (some nulls)."""
    rng = np.random.default_rng(seed)
    assets = np.round(rng.lognormal(11.5, 1.6, n), 2)
    active_365 = rng.integers(0, 200, n).astype(float)
    active_90 = np.minimum(active_365, rng.integers(0, 60, n)).astype(float)
    revenue = np.round(assets * rng.uniform(0.0, 0.01, n), 2)
    frame = pd.DataFrame(
        {
            "account_id": [f"A{i:06d}" for i in range(n)],
            "as_of": pd.Timestamp(as_of).date(),
            "days_since_last_trade": np.where(
                active_365 > 0, rng.integers(0, 365, n), np.nan
            ).astype(float),
            "tenure_days": rng.integers(10, 4000, n).astype(float),
            "active_trading_days_90d": active_90,
            "active_trading_days_365d": active_365,
            "trading_days_trend": np.round(rng.lognormal(0, 0.6, n), 3),
            "revenue_365d": revenue,
            "commission_365d": np.round(revenue * 0.9, 2),
            "asset_turnover_365d": np.round(rng.lognormal(0.5, 1.0, n), 3),
            "effective_commission_rate": np.round(rng.uniform(0.0001, 0.0008, n), 6),
            "total_assets": assets,
            "asset_growth_365d": np.round(rng.normal(0, 0.3, n), 3),
            "outflow_share_30d": np.round(rng.beta(0.5, 4, n), 3),
            "unrealized_pnl_ratio": np.round(rng.normal(-0.05, 0.15, n), 3),
            "risk_level": pd.array(rng.choice(["C1", "C2", "C3", "C4", "C5"], n), dtype="str"),
            "investor_type": pd.array(
                rng.choice(["ordinary", "professional", "institution"], n, p=[0.9, 0.07, 0.03]),
                dtype="str",
            ),
            "branch": pd.array(rng.choice(["Shanghai-01", "Beijing-02"], n), dtype="str"),
        }
    )
    frame.loc[rng.random(n) < 0.05, "risk_level"] = None
    return frame


def _labels(features: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    f = features
    logit = (
        -1.0
        + 0.006 * f["days_since_last_trade"].fillna(400)
        - 0.02 * f["active_trading_days_90d"]
        + 3.0 * f["outflow_share_30d"]
        - 2.0 * f["unrealized_pnl_ratio"]
        + 2000 * f["effective_commission_rate"]
    )
    churn = (rng.random(len(f)) < 1 / (1 + np.exp(-logit))).astype(float)
    clv = f["revenue_365d"].to_numpy() * rng.gamma(2.0, 0.5, len(f))
    return churn, clv


@dataclass
class FakeModel:
    """The interface of ``valuemodel.models.tracking.load_model``'s ``LoadedModel``."""

    kind: str
    version: str
    booster: lgb.Booster
    schema: dict
    horizon_days: int
    run_id: str = "run-test"

    @property
    def _schema(self) -> FeatureSchema:
        return FeatureSchema.from_dict(self.schema)

    @property
    def feature_names(self) -> list[str]:
        return list(self.schema["feature_names"])

    @property
    def feature_profile(self) -> dict:
        return self.schema["profile"]

    def prepare(self, features: pd.DataFrame) -> pd.DataFrame:
        return self._schema.prepare(features)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        raw = self.booster.predict(self.prepare(features), raw_score=self.kind == "churn")
        if self.kind == "churn":
            return 1 / (1 + np.exp(-(0.9 * raw - 0.1)))
        return np.clip(raw, 0.0, None)


@dataclass
class Models:
    churn: FakeModel
    clv: FakeModel
    train: pd.DataFrame

    def as_dict(self) -> dict[str, FakeModel]:
        return {"churn": self.churn, "clv": self.clv}


def train_models(n: int = 3000, seed: int = 0, rounds: int = 40) -> Models:
    """A churn (binary) and a value (Tweedie) LightGBM model on ``make_features``."""
    features = make_features(n, seed)
    schema = FeatureSchema.from_frame(features[["account_id", "as_of", *MODEL_FEATURES]])
    X = schema.prepare(features)
    churn_y, clv_y = _labels(features, seed)
    params = {
        "verbosity": -1,
        "num_threads": 1,
        "deterministic": True,
        "seed": seed,
        "num_leaves": 15,
        "min_data_in_leaf": 20,
    }
    churn_booster = lgb.train(
        {**params, "objective": "binary"}, lgb.Dataset(X, churn_y), num_boost_round=rounds
    )
    clv_booster = lgb.train(
        {**params, "objective": "tweedie"}, lgb.Dataset(X, clv_y), num_boost_round=rounds
    )
    churn = FakeModel("churn", "3", churn_booster, schema.to_dict(), 90)
    clv = FakeModel("clv", "5", clv_booster, schema.to_dict(), 365)
    return Models(churn=churn, clv=clv, train=features)


@dataclass(frozen=True)
class Spec:
    """A stand-in for ``valuemodel.features.FeatureSpec``."""

    name: str
    family: str = ""
    unit: str = ""
    description: str = ""
    description_zh: str = ""
    reason_en: str = ""
    reason_zh: str = ""
    risk_direction: str = "up"


REGISTRY = {
    "active_trading_days_90d": Spec(
        "active_trading_days_90d",
        description="trading days in the last 90 days",
        description_zh="近90天交易天数",
        reason_en="traded on {value} days in the last quarter against {active_trading_days_365d}"
        " in the last year",
        reason_zh="近一季度交易{value}天（近一年{active_trading_days_365d}天）",
    ),
    "outflow_share_30d": Spec(
        "outflow_share_30d",
        description="share of assets moved out in 30 days",
        reason_en="moved {value:.0%} of assets out in 30 days",
        reason_zh="30天内转出{value:.0%}的资产",
    ),
    "days_since_last_trade": Spec(
        "days_since_last_trade",
        description="days since the last trade",
        description_zh="距上次交易天数",
        reason_en="no trade for {value} days",
        reason_zh="已{value}天未交易",
    ),
}
