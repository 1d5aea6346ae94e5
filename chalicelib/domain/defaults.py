"""Live settings every environment starts with; operators change them later without a deploy."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.catalog import PRICES_SETTING, default_price_setting
from chalicelib.domain.codes import PLANS_SETTING, default_plan_setting


def default_settings() -> dict[str, Any]:
    return {PRICES_SETTING: default_price_setting(), PLANS_SETTING: default_plan_setting()}
