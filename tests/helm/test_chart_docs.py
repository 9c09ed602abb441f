"""The chart documents itself: every value has a description, the schema knows every value,
and the README covers install, upgrade (CRDs), uninstall, and lists every value as values.yaml
says it (the table between the README's markers is generated from values.yaml)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from chartkit import CHART, documented_paths, value_descriptions, values_table

VALUES = (CHART / "values.yaml").read_text()
README = (CHART / "README.md").read_text()


def test_every_value_has_a_description() -> None:
    """Each leaf of values.yaml has a `# --` comment directly above it."""
    undocumented = [path for path, text in value_descriptions(VALUES).items() if not text]
    assert undocumented == []
    assert set(value_descriptions(VALUES)) == set(documented_paths(yaml.safe_load(VALUES)))


def _schema_node(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    node: dict[str, Any] | None = schema
    for key in path.split("."):
        properties: dict[str, Any] = (node or {}).get("properties", {})
        node = properties.get(key)
    return node


def test_schema_declares_every_value() -> None:
    """values.schema.json has a property, with a description, for each documented value."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    for path in documented_paths(yaml.safe_load(VALUES)):
        node = _schema_node(schema, path)
        assert node is not None, f"{path} is not in values.schema.json"
        assert node.get("description"), f"{path} has no description in the schema"


def test_readme_lists_every_value_as_values_yaml_says() -> None:
    """The README's values table equals the one generated from values.yaml."""
    found = re.search(r"<!-- values:start -->\n(.*)\n<!-- values:end -->", README, re.DOTALL)
    assert found, "the README has no values table markers"
    expected = values_table(VALUES)
    assert found.group(1) == expected, f"regenerate the README table:\n{expected}"


def test_readme_covers_the_lifecycle() -> None:
    """Install, upgrade (with the CRD step Helm skips), uninstall, and what stays behind."""
    for heading in ("## Install", "## Upgrade", "## Uninstall", "## Values"):
        assert heading in README
    upgrade = README.split("## Upgrade", 1)[1].split("\n## ", 1)[0]
    assert "kubectl apply --server-side --force-conflicts -f helm/model-gateway/crds/" in upgrade
    assert upgrade.index("kubectl apply") < upgrade.index("helm upgrade")
