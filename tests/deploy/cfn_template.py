"""The CloudFormation template as plain data, and a small evaluator of its parameters, conditions, rules and intrinsics.

moto's CloudFormation skips the resource types it does not know (alarms, metric filters, scaling), so
what those declare is checked here, on the template resolved for given parameters, as CloudFormation
would resolve it for the functions this template uses: Ref, Fn::Sub (parameters and pseudo
parameters), Fn::GetAtt Queue.QueueName, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from localdev.processes import REPO_ROOT

TEMPLATE = REPO_ROOT / "deploy" / "cloudformation" / "switchboard-queues.yaml"
NO_VALUE = object()  # what Ref AWS::NoValue resolves to: the property is left out


def load_template() -> dict[str, Any]:
    """The template as plain data, with short-form intrinsics (!Ref, !GetAtt, …) in their long form."""

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:
            raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{suffix}", node.start_mark)
        return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}

    Loader.add_multi_constructor("!", intrinsic)
    template: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=Loader)  # a SafeLoader that also reads intrinsics
    return template


class Stack:
    """The template with these parameters (defaults for the rest), evaluated the way CloudFormation would."""

    def __init__(self, template: dict[str, Any], stack_name: str = "sb", **parameters: str) -> None:
        declared = template["Parameters"]
        unknown = set(parameters) - set(declared)
        assert not unknown, f"not parameters of the template: {unknown}"
        self.template = template
        self.values: dict[str, Any] = {"AWS::StackName": stack_name, "AWS::Region": "us-east-1"}
        for name, spec in declared.items():
            raw = parameters.get(name, spec.get("Default"))
            assert raw is not None, f"{name} has no default: give it"
            self.values[name] = _number(raw) if spec["Type"] == "Number" else str(raw)

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def rules_hold(self) -> bool:
        """Every rule whose RuleCondition holds has all its assertions true (else CloudFormation refuses the stack)."""
        for rule in self.template.get("Rules", {}).values():
            if "RuleCondition" in rule and not self.resolve(rule["RuleCondition"]):
                continue
            if not all(self.resolve(assertion["Assert"]) for assertion in rule["Assertions"]):
                return False
        return True

    def resources(self) -> dict[str, dict[str, Any]]:
        """The resources this stack would create, their properties resolved."""
        return {
            name: {**resource, "Properties": self.resolve(resource.get("Properties", {}))}
            for name, resource in self.template["Resources"].items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return NO_VALUE if argument == "AWS::NoValue" else self._ref(argument)
            if key == "Condition":
                return self.condition(argument)
            if key.startswith("Fn::"):
                return self._function(key[4:], argument)
        resolved = {key: self.resolve(v) for key, v in value.items()}
        return {key: v for key, v in resolved.items() if v is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        assert name in self.template["Resources"], f"Ref to nothing: {name}"
        return f"<{name}>"  # a resource's physical id: known only once created

    def _function(self, name: str, argument: Any) -> Any:
        if name == "If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Equals":
            left, right = (self.resolve(a) for a in argument)
            return left == right
        if name == "Not":
            return not self.resolve(argument[0])
        if name == "And":
            return all(self.resolve(a) for a in argument)
        if name == "Or":
            return any(self.resolve(a) for a in argument)
        if name == "Sub":
            assert isinstance(argument, str), "only the one-string form of Fn::Sub is supported here"
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._ref(m.group(1))), argument)
        if name == "GetAtt":
            resource, attribute = argument
            properties = self.template["Resources"][resource]["Properties"]
            if attribute == "QueueName":
                return self.resolve(properties["QueueName"])
            return f"<{resource}.{attribute}>"
        raise AssertionError(f"Fn::{name} is not evaluated here: teach cfn_template.py")


def _number(raw: Any) -> int | float:
    value = float(raw)
    return int(value) if value.is_integer() else value
