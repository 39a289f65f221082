"""evaluation.html shows each number in its unit."""

import json

from .test_evaluation import brokerage, run


def test_the_retained_assets_effect_is_a_share_in_points_not_money(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 1500, 0.15, 0.30, seed=1)
    result = run(tmp_path, frame)
    assets = json.loads(result.json_path.read_text())["control"]["overall"]["retained_assets"]
    d, (low, high) = assets["difference"], assets["interval"]
    assert 0 < d < 1  # a difference of shares of the assets kept
    html = result.html_path.read_text()
    expected = f"{d * 100:+.1f} pts ({low * 100:+.1f} pts to {high * 100:+.1f} pts)"
    assert expected in html
    assert "0 (0 to 0)" not in html and "share of assets retained, difference" in html
