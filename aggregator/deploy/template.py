"""Reading the CloudFormation template, and resolving the few intrinsics the deploy code needs."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "infra" / "cloudformation" / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short tags (!Ref, !GetAtt, !Sub, ...) into their long form."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template_text(text: str) -> dict:
    return yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@lru_cache(maxsize=1)
def load_template(path: Path = TEMPLATE_PATH) -> dict:
    return load_template_text(path.read_text())


def without_false_conditions(template: dict, parameters: dict[str, str]) -> dict:
    """The template with every resource whose Condition is false left out, conditions resolved here.

    Only for the emulator: moto's CloudFormation keeps conditional resources it skipped at create
    time and then fails to update them. CloudFormation itself never creates them either, so the
    stack is the same.
    """
    values = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    values.update(parameters)
    conditions = template.get("Conditions", {})

    def evaluate(expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            ((name, argument),) = expression.items()
            if name == "Ref":
                return values.get(argument, argument)
            if name == "Condition":
                return evaluate(conditions[argument])
            if name == "Fn::Equals":
                return str(evaluate(argument[0])) == str(evaluate(argument[1]))
            if name == "Fn::Not":
                return not evaluate(argument[0])
            if name == "Fn::And":
                return all(evaluate(item) for item in argument)
            if name == "Fn::Or":
                return any(evaluate(item) for item in argument)
        return expression

    kept = {
        name: resource
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or evaluate(conditions[resource["Condition"]])
    }
    return {**template, "Resources": kept}


def resources_of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


class Resolver:
    """Resolves Ref, Fn::GetAtt and Fn::Sub against a created stack.

    `refs` maps logical ids and parameters to their Ref values; `attribute` is called for
    Fn::GetAtt (logical id, attribute name) and looks the value up through AWS APIs.
    """

    def __init__(self, refs: dict[str, str], attribute):
        self.refs = refs
        self.attribute = attribute

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self.refs[value["Ref"]]
        if set(value) == {"Fn::GetAtt"}:
            logical_id, name = value["Fn::GetAtt"]
            return self.attribute(logical_id, name)
        if set(value) == {"Fn::Sub"}:
            return self._sub(value["Fn::Sub"])
        return {key: self(item) for key, item in value.items()}

    def _sub(self, template: str) -> str:
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if "." in name:
                return str(self.attribute(*name.split(".", 1)))
            return str(self.refs[name])

        return re.sub(r"\$\{([^}!]+)\}", replace, template)


def table_definition(template: dict, logical_id: str, table_name: str) -> dict:
    """CreateTable arguments for a table the template declares: same keys, indexes and stream."""
    props = template["Resources"][logical_id]["Properties"]
    definition = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props["BillingMode"],
    }
    if "GlobalSecondaryIndexes" in props:
        definition["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if "StreamSpecification" in props:
        definition["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return definition
