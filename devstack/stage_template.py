"""The packaged template's defaults for the stage it was packaged for: infra/resources.yaml is one file for
every stage, and a stage's secrets live under its own path, so a `dev` stack never reads `prod`'s."""
from __future__ import annotations

from pathlib import Path

import yaml


def secrets_path(stage: str) -> str:
    return f"/tgshop/{stage}"


def set_stage_defaults(template_path: Path, stage: str) -> str:
    """Write the stage's SecretsPath as the parameter's default; return it."""
    template = yaml.safe_load(template_path.read_text())
    path = secrets_path(stage)
    template["Parameters"]["SecretsPath"]["Default"] = path
    template_path.write_text(yaml.safe_dump(template, sort_keys=False))
    return path
