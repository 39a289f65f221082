"""The effect of contact: a meta-learner on LightGBM, fitted on randomised campaigns.

``UpliftLearner`` takes a feature frame, a treatment flag (1 = contacted / on the list,
0 = control) and a churn outcome (1 = churned within the horizon), and predicts the **fall in
churn probability if contacted** (the uplift; negative where contact does harm):

- ``"t"`` (T-learner): one churn classifier per group; uplift = p_control - p_treated;
- ``"x"`` (X-learner, Künzel et al. 2019): the T-learner's classifiers impute each row's
  individual effect (a treated row: p_control(x) - y; a control row: y - p_treated(x)), one
  regressor per group learns it, and the two are blended by the treated share (the
  propensity, constant in a randomised campaign);
- ``"dr"`` (DR-learner, Kennedy 2020): a regressor on the doubly robust pseudo-outcome, with
  the outcome models cross-fitted on two folds and the known propensity.

The default is the T-learner: on the generator's campaigns (three generated brokerages,
``benchmarks/bench_uplift.py`` and ``bench_uplift_variants.py``, BENCHMARKS.md), with the
effect bounded by the churn probability as the list bounds it, no other learner or
regularisation (fewer rounds, larger leaves, fewer features, X/DR, an effect relative to the
churn probability) kept more true saved value on average, and none beat ranking by value at
risk by more than the seed-to-seed noise. Each part is a LightGBM booster, saved as its
native model text (``to_texts`` / ``from_texts``): no pickle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from valuemodel.models import boosting
from valuemodel.models.schema import FeatureSchema
from valuemodel.models.shap_values import contributions

METHODS = ("t", "x", "dr")
DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 10.0,
}
PARTS = {"t": ("control", "treated"), "x": ("control", "treated", "effect_control",
         "effect_treated"), "dr": ("effect",)}  # fmt: skip


class UpliftLearner(BaseEstimator):
    """A T-, X- or DR-learner of the fall in churn probability if contacted.

    Parameters: ``method`` (``"t"``, ``"x"``, ``"dr"``), ``params`` (LightGBM tree parameters,
    merged over ``DEFAULT_PARAMS``), ``rounds`` (boosting rounds of each part), ``seed``,
    ``num_threads``. Learned: ``boosters_`` (part name -> Booster), ``treated_share_``,
    ``average_effect_`` (control churn rate minus treated churn rate), ``feature_names_in_``.
    """

    def __init__(
        self,
        method: str = "t",
        params: dict[str, Any] | None = None,
        rounds: int = 150,
        seed: int = 7,
        num_threads: int = 1,
    ):
        self.method = method
        self.params = params
        self.rounds = rounds
        self.seed = seed
        self.num_threads = num_threads

    def fit(self, X: pd.DataFrame, treatment, outcome) -> UpliftLearner:
        """Fit on features ``X``, ``treatment`` (0/1) and the churn ``outcome`` (0/1)."""
        t, y = _flags(treatment, "treatment"), _flags(outcome, "outcome")
        if not len(t) == len(y) == len(X):
            raise ValueError("X, treatment and outcome must have the same number of rows")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if t.min() == t.max():
            raise ValueError("uplift needs both treated and control rows")
        self.treated_share_ = float(t.mean())
        self.average_effect_ = float(y[t == 0].mean() - y[t == 1].mean())
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        fit = {"t": self._fit_t, "x": self._fit_x, "dr": self._fit_dr}[self.method]
        self.boosters_ = fit(X, t, y)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The predicted fall in churn probability if contacted, in ``[-1, 1]``."""
        check_is_fitted(self, "boosters_")
        b = self.boosters_
        if self.method == "t":
            effect = b["control"].predict(X) - b["treated"].predict(X)
        elif self.method == "x":
            e = self.treated_share_
            effect = e * b["effect_control"].predict(X) + (1 - e) * b["effect_treated"].predict(X)
        else:
            effect = b["effect"].predict(X)
        return np.clip(effect, -1.0, 1.0)

    def to_texts(self) -> dict[str, str]:
        """Each part as LightGBM model text (what a model folder stores)."""
        check_is_fitted(self, "boosters_")
        return {part: booster.model_to_string() for part, booster in self.boosters_.items()}

    @classmethod
    def from_texts(cls, method: str, texts: dict[str, str], treated_share: float, **kw):
        """A fitted learner from ``to_texts`` output (no code is executed)."""
        if method not in METHODS or set(texts) != set(PARTS[method]):
            raise ValueError(f"an uplift model {method!r} needs the parts {PARTS.get(method)}")
        learner = cls(method=method, **kw)
        learner.boosters_ = {p: boosting.load_booster(text) for p, text in texts.items()}
        learner.treated_share_ = float(treated_share)
        first = next(iter(learner.boosters_.values()))
        learner.feature_names_in_ = np.asarray(first.feature_name(), dtype=object)
        return learner

    # -- the three learners ---------------------------------------------------------------

    def _booster(self, X: pd.DataFrame, y: np.ndarray, objective: str) -> lgb.Booster:
        params = {**DEFAULT_PARAMS, **(self.params or {}), "objective": objective}
        params = boosting.booster_params(params, self.seed, self.num_threads)
        return boosting.train_booster(
            params, boosting.dataset(X, y), None, max_rounds=self.rounds, early_stopping_rounds=0
        )

    def _fit_t(self, X, t, y) -> dict[str, lgb.Booster]:
        return {
            "control": self._booster(_rows(X, t == 0), y[t == 0], "binary"),
            "treated": self._booster(_rows(X, t == 1), y[t == 1], "binary"),
        }

    def _fit_x(self, X, t, y) -> dict[str, lgb.Booster]:
        first = self._fit_t(X, t, y)
        treated, control = _rows(X, t == 1), _rows(X, t == 0)
        imputed_treated = first["control"].predict(treated) - y[t == 1]
        imputed_control = y[t == 0] - first["treated"].predict(control)
        return {
            **first,
            "effect_treated": self._booster(treated, imputed_treated, "regression"),
            "effect_control": self._booster(control, imputed_control, "regression"),
        }

    def _fit_dr(self, X, t, y) -> dict[str, lgb.Booster]:
        e = self.treated_share_
        folds = np.random.default_rng(self.seed).random(len(y)) < 0.5
        pseudo = np.empty(len(y))
        for fold in (folds, ~folds):
            models = self._fit_t(_rows(X, ~fold), t[~fold], y[~fold])
            rows = _rows(X, fold)
            m0, m1 = models["control"].predict(rows), models["treated"].predict(rows)
            tf, yf = t[fold], y[fold]
            pseudo[fold] = m0 - m1 + (1 - tf) * (yf - m0) / (1 - e) - tf * (yf - m1) / e
        return {"effect": self._booster(X, pseudo, "regression")}


def _flags(values, name: str) -> np.ndarray:
    out = np.asarray(values, dtype=float)
    if np.isnan(out).any() or not np.isin(out, (0.0, 1.0)).all():
        raise ValueError(f"{name} must be 0 or 1 without missing values")
    return out


def _rows(X: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    return X.loc[np.asarray(mask)]


@dataclass
class LoadedUplift:
    """A registered uplift model ready to score: ``predict`` gives the fall in churn
    probability if contacted; ``contributions`` what drives it per account.

    ``metadata`` holds ``default_rank_by`` (``saved_value`` or ``value_at_risk``) and ``why``:
    what the out-of-time validation decided for the list's default ranking.
    """

    version: str
    run_id: str
    schema: dict[str, Any]
    metadata: dict[str, Any]
    learner: UpliftLearner
    kind: str = "uplift"
    _schema: FeatureSchema = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._schema = FeatureSchema.from_dict(self.schema)

    @property
    def feature_names(self) -> list[str]:
        return list(self._schema.feature_names)

    @property
    def feature_profile(self) -> dict[str, Any]:
        return self._schema.profile

    @property
    def horizon_days(self) -> int:
        return int(self.metadata["horizon_days"])

    @property
    def default_rank_by(self) -> str:
        return str(self.metadata.get("default_rank_by", "value_at_risk"))

    def prepare(self, features: pd.DataFrame) -> pd.DataFrame:
        return self._schema.prepare(features)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.learner.predict(self.prepare(features))

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-feature contributions to the predicted effect (``X`` prepared)."""
        return effect_contributions(self.learner, X)


def effect_contributions(
    learner: UpliftLearner, X: pd.DataFrame, bias: bool = False
) -> pd.DataFrame:
    """SHAP contributions (TreeSHAP, LightGBM's own) of each feature to the predicted effect;
    with ``bias=True`` the base value last, as column ``bias``.

    Exact for the X- and DR-learners (their effect is a weighted sum of regressors); for the
    T-learner the difference of the two classifiers' contributions in log-odds, which has
    the sign and order of the effect's drivers but not its units.
    """
    check_is_fitted(learner, "boosters_")
    b = learner.boosters_
    if learner.method == "x":
        e = learner.treated_share_
        return e * contributions(b["effect_control"], X, bias) + (1 - e) * contributions(
            b["effect_treated"], X, bias
        )
    if learner.method == "dr":
        return contributions(b["effect"], X, bias)
    return contributions(b["control"], X, bias) - contributions(b["treated"], X, bias)


def uplift_shap_frame(model: LoadedUplift, features: pd.DataFrame) -> pd.DataFrame:
    """Per-account SHAP contributions to the predicted effect of a registered uplift model,
    in the layout of :func:`valuemodel.models.shap_values.shap_frame` (the model's features,
    then ``bias``), so its aggregates and ``explanation`` apply."""
    return effect_contributions(model.learner, model.prepare(features), bias=True)
