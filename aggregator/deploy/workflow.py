"""The whole deploy: package, upload the artifact, change set, and (on an emulator) what it ignores."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aggregator.deploy.package import package_code
from aggregator.deploy.stack import DeployResult, artifact_bucket_name, deploy_stack, ensure_artifact, stack_exists
from aggregator.deploy.template import TEMPLATE_PATH, load_template, without_false_conditions
from aggregator.local.emulation import apply_ignored_resources, stack_resolver, template_outputs


def deploy(
    clients: Any,
    stack_name: str,
    region: str,
    parameters: dict[str, str],
    dry_run: bool = False,
    poll_seconds: float = 5.0,
    report: Callable[[str], None] = lambda line: None,
) -> DeployResult:
    """Deploy the template as `stack_name`. With Emulated=true (moto) the resources moto's
    CloudFormation ignores are applied afterwards from the template's own declarations."""
    package = package_code()
    report(f"package   {package.key}  {len(package.data) / 1024:.0f} KiB, {package.files} files")
    account = clients("sts").get_caller_identity()["Account"]
    bucket = artifact_bucket_name(account, region)
    uploaded = ensure_artifact(clients("s3"), bucket, region, package)
    report(f"artifact  s3://{bucket}/{package.key} ({'uploaded' if uploaded else 'already there'})")
    all_parameters = {"ArtifactBucket": bucket, "ArtifactKey": package.key, **parameters}
    emulated = _emulated(clients, stack_name, parameters)
    body = TEMPLATE_PATH.read_text()
    if emulated:
        body = json.dumps(without_false_conditions(load_template(), all_parameters))
    result = deploy_stack(
        clients("cloudformation"), stack_name, all_parameters, body, dry_run=dry_run, poll_seconds=poll_seconds
    )
    if result.status != "dry-run" and emulated:
        template = load_template()
        resolve = stack_resolver(clients, stack_name, template)
        apply_ignored_resources(clients, template, resolve)
        if not result.outputs:  # moto publishes no Outputs after a change set
            result.outputs = template_outputs(template, resolve)
    return result


def _emulated(clients: Any, stack_name: str, parameters: dict[str, str]) -> bool:
    if "Emulated" in parameters:
        return parameters["Emulated"] == "true"
    if not stack_exists(clients("cloudformation"), stack_name):
        return False
    stack = clients("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return any(p["ParameterKey"] == "Emulated" and p["ParameterValue"] == "true" for p in stack.get("Parameters", []))
