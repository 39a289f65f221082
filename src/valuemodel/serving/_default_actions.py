"""The default action catalogue and rules (the ``actions`` section of ``serving/tiers.yaml``)."""

from __future__ import annotations

_ACTIVITY = [
    "trades_*",
    "active_trading_days_*",
    "login_days_*",
    "days_since_last_*",
    "trading_days_trend",
    "active_months_12m",
]

DEFAULT_ACTIONS = {
    "catalogue": {
        "senior_adviser_visit": {
            "en": "Arrange a visit by a senior adviser",
            "zh": "安排资深投资顾问拜访",
        },
        "rate_review": {
            "en": "Review the commission rate (price-sensitive active trader)",
            "zh": "评估佣金费率（价格敏感的活跃交易客户）",
        },
        "portfolio_review": {
            "en": "Offer a portfolio review (positions at a loss)",
            "zh": "提供持仓诊断（持仓浮亏）",
        },
        "outflow_call": {
            "en": "Call about the recent outflow and what the client needs",
            "zh": "就近期资金转出致电了解客户需求",
        },
        "guidance": {
            "en": "Give guidance: a call, investor education and a trading-app walkthrough",
            "zh": "提供投资指导：电话回访、投资者教育与交易软件辅导",
        },
        "fund_introduction": {
            "en": "Introduce a fund product (product risk R2 or below)",
            "zh": "介绍基金产品（产品风险等级R2及以下）",
            "product_risk": "R2",
            "fallback": "holding_review",
        },
        "holding_review": {
            "en": "Call to review holdings and long-term plans",
            "zh": "致电回顾持仓与长期投资计划",
        },
        "market_information": {
            "en": "Send quality research and market information",
            "zh": "推送优质研究报告与市场资讯",
        },
        "check_in_call": {
            "en": "Routine check-in call",
            "zh": "例行回访",
        },
    },
    "rules": [
        {"action": "senior_adviser_visit", "when": {"asset_tier": {"in": ["large"]}}},
        {
            "action": "rate_review",
            "top_reason": ["effective_commission_rate", "commission_rate_percentile"],
            "when": {"days_since_last_trade": {"max": 30}},
        },
        {
            "action": "portfolio_review",
            "top_reason": [
                "unrealized_pnl_ratio",
                "pnl_*",
                "return_*",
                "drawdown_*",
                "profitable_month_share_12m",
            ],
        },
        {"action": "portfolio_review", "when": {"unrealized_pnl_ratio": {"max": -0.2}}},
        {
            "action": "outflow_call",
            "top_reason": ["net_flow_*", "outflow_*", "withdrawals_*", "asset_growth_*"],
        },
        {
            "action": "guidance",
            "when": {
                "service_segment": {"in": ["dormant"]},
                "tenure_days": {"max": 729, "missing": True},
            },
        },
        {
            "action": "fund_introduction",
            "when": {"service_segment": {"in": ["dormant"]}, "tenure_days": {"min": 730}},
        },
        {"action": "guidance", "when": {"lifecycle_stage": {"in": ["new"]}}},
        {
            "action": "market_information",
            "top_reason": _ACTIVITY,
            "when": {"tenure_days": {"min": 1095}},
        },
    ],
    "default": "check_in_call",
}
