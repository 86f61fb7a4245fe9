"""Deploying the template through a CloudFormation change set, and removing it again."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from aggregator.deploy.package import Package
from aggregator.deploy.template import TEMPLATE_PATH, load_template_text

NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
UNUPDATABLE = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED")


class DeployError(RuntimeError):
    """A deploy failed; the message names the failing resource and CloudFormation's reason."""


@dataclass(frozen=True)
class Change:
    action: str
    logical_id: str
    resource_type: str
    replacement: str = ""


@dataclass
class DeployResult:
    status: str  # created | updated | unchanged | dry-run
    changes: list[Change] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)


def artifact_bucket_name(account_id: str, region: str) -> str:
    return f"aggregator-artifacts-{account_id}-{region}"


def ensure_artifact(s3: Any, bucket: str, region: str, package: Package) -> bool:
    """Create the artifacts bucket if needed and upload the zip unless that exact zip is there.

    Returns True when the zip was uploaded, False when it was already there.
    """
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        params: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**params)
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    try:
        s3.head_object(Bucket=bucket, Key=package.key)
        return False
    except ClientError:
        s3.put_object(Bucket=bucket, Key=package.key, Body=package.data)
        return True


def stack_status(cfn: Any, stack_name: str) -> str | None:
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stacks[0]["StackStatus"] if stacks else None


def stack_exists(cfn: Any, stack_name: str) -> bool:
    return stack_status(cfn, stack_name) not in (None, "REVIEW_IN_PROGRESS")


def deploy_stack(
    cfn: Any,
    stack_name: str,
    parameters: dict[str, str],
    template_body: str | None = None,
    dry_run: bool = False,
    poll_seconds: float = 0.2,
    timeout_seconds: float = 3600,
) -> DeployResult:
    """Create or update the stack through a change set, wait, and return what changed and the outputs.

    On update, template parameters not given keep their previous value. A change set without
    changes is deleted, not executed. With dry_run the change set is described, then deleted.
    """
    body = template_body if template_body is not None else TEMPLATE_PATH.read_text()
    status = stack_status(cfn, stack_name)
    if status in UNUPDATABLE:
        raise DeployError(
            f"stack {stack_name} is {status} (a failed first deploy or delete); remove it with "
            f"`bin/counters destroy --stack-name {stack_name}` and deploy again"
        )
    updating = status not in (None, "REVIEW_IN_PROGRESS")
    name = f"deploy-{int(time.time() * 1000)}"
    try:
        cfn.create_change_set(
            StackName=stack_name,
            ChangeSetName=name,
            ChangeSetType="UPDATE" if updating else "CREATE",
            TemplateBody=body,
            Parameters=_parameters(cfn, stack_name, body, parameters, updating),
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
    except ClientError as exc:
        if any(text in str(exc) for text in NO_CHANGES):  # how moto says it
            return DeployResult("unchanged", outputs=stack_outputs(cfn, stack_name))
        raise
    deadline = time.monotonic() + timeout_seconds
    while True:
        change_set = cfn.describe_change_set(StackName=stack_name, ChangeSetName=name)
        if change_set["Status"] == "CREATE_COMPLETE":
            break
        if change_set["Status"] == "FAILED":
            reason = change_set.get("StatusReason", "")
            cfn.delete_change_set(StackName=stack_name, ChangeSetName=name)
            if any(text in reason for text in NO_CHANGES):
                return DeployResult("unchanged", outputs=stack_outputs(cfn, stack_name))
            raise DeployError(f"CloudFormation rejected the change set: {reason}")
        _wait(deadline, poll_seconds, "the change set")
    changes = [_change(c["ResourceChange"]) for c in change_set.get("Changes", []) if "ResourceChange" in c]
    if dry_run:
        cfn.delete_change_set(StackName=stack_name, ChangeSetName=name)
        if not updating:
            cfn.delete_stack(StackName=stack_name)  # the empty REVIEW_IN_PROGRESS placeholder
        return DeployResult("dry-run", changes)
    cfn.execute_change_set(StackName=stack_name, ChangeSetName=name)
    while True:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
            return DeployResult("updated" if updating else "created", changes, outputs)
        if status.endswith("IN_PROGRESS"):
            _wait(deadline, poll_seconds, "the stack")
            continue
        raise DeployError(f"deploy of {stack_name} failed ({status}): {first_failure(cfn, stack_name)}")


def destroy_stack(cfn: Any, stack_name: str, poll_seconds: float = 0.2, timeout_seconds: float = 3600) -> None:
    cfn.delete_stack(StackName=stack_name)
    deadline = time.monotonic() + timeout_seconds
    while True:
        status = stack_status(cfn, stack_name)
        if status in (None, "DELETE_COMPLETE"):
            return
        if status == "DELETE_FAILED":
            raise DeployError(f"delete of {stack_name} failed: {first_failure(cfn, stack_name)}")
        _wait(deadline, poll_seconds, "the delete")


def retained_resources(template_body: str) -> list[str]:
    """Logical ids the template keeps when the stack is deleted (DeletionPolicy: Retain)."""
    resources = load_template_text(template_body)["Resources"]
    return [name for name, spec in resources.items() if spec.get("DeletionPolicy") == "Retain"]


def stack_outputs(cfn: Any, stack_name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def first_failure(cfn: Any, stack_name: str) -> str:
    """The earliest failed resource event with its reason (events come newest first)."""
    try:
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    except ClientError:
        return "no stack events available"
    failed = [e for e in events if e["ResourceStatus"].endswith("_FAILED") and e["LogicalResourceId"] != stack_name]
    if not failed:
        return "no failed resource reported"
    event = failed[-1]
    reason = event.get("ResourceStatusReason", "no reason given")
    return f"{event['LogicalResourceId']} ({event['ResourceType']}): {reason}"


def _parameters(cfn: Any, stack_name: str, body: str, given: dict[str, str], updating: bool) -> list[dict]:
    declared = load_template_text(body).get("Parameters", {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise DeployError(f"the template has no parameter {', '.join(unknown)}; it has {', '.join(sorted(declared))}")
    previous = set()
    if updating:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        previous = {p["ParameterKey"] for p in stack.get("Parameters", [])}
    result = [{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()]
    result += [{"ParameterKey": k, "UsePreviousValue": True} for k in sorted(previous & set(declared) - set(given))]
    return result


def _change(change: dict) -> Change:
    return Change(
        action=change.get("Action", "?"),
        logical_id=change.get("LogicalResourceId", "?"),
        resource_type=change.get("ResourceType", "?"),
        replacement=change.get("Replacement", "") or "",
    )


def _wait(deadline: float, poll_seconds: float, what: str) -> None:
    if time.monotonic() > deadline:
        raise DeployError(f"timed out waiting for {what}")
    time.sleep(poll_seconds)
