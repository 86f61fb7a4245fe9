"""Packaging the function code and deploying the template through a CloudFormation change set."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from aggregator.local.template import TEMPLATE_PATH

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
# What the functions import; the CLI and the local stack stay out of the Lambda zip.
FUNCTION_PACKAGES = ("domain", "adapters", "usecases", "handlers")
FUNCTION_MODULES = ("__init__.py", "settings.py")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class DeployError(RuntimeError):
    """A deploy failed; the message names the failing resource and CloudFormation's reason."""


@dataclass(frozen=True)
class Package:
    data: bytes
    sha256: str

    @property
    def key(self) -> str:
        return f"aggregator/code-{self.sha256[:16]}.zip"


def package_code() -> Package:
    """A reproducible zip of the function code: sorted entries, fixed dates and modes."""
    files = [PACKAGE_ROOT / name for name in FUNCTION_MODULES]
    for package in FUNCTION_PACKAGES:
        files.extend(sorted((PACKAGE_ROOT / package).rglob("*.py")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(f"aggregator/{path.relative_to(PACKAGE_ROOT).as_posix()}", ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    data = buffer.getvalue()
    return Package(data=data, sha256=hashlib.sha256(data).hexdigest())


def artifact_bucket_name(account_id: str, region: str) -> str:
    return f"aggregator-artifacts-{account_id}-{region}"


def ensure_artifact(s3: Any, bucket: str, region: str, package: Package) -> None:
    """Create the artifacts bucket if needed and upload the zip unless that exact zip is there."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        params: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**params)
    try:
        s3.head_object(Bucket=bucket, Key=package.key)
    except ClientError:
        s3.put_object(Bucket=bucket, Key=package.key, Body=package.data)


def stack_exists(cfn: Any, stack_name: str) -> bool:
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return False
        raise
    return bool(stacks) and stacks[0]["StackStatus"] != "REVIEW_IN_PROGRESS"


def deploy_stack(
    cfn: Any,
    stack_name: str,
    parameters: dict[str, str],
    template_body: str | None = None,
    poll_seconds: float = 0.2,
    timeout_seconds: float = 1800,
) -> dict[str, str]:
    """Create or update the stack through a change set, wait, and return its outputs."""
    body = template_body if template_body is not None else TEMPLATE_PATH.read_text()
    change_set_type = "UPDATE" if stack_exists(cfn, stack_name) else "CREATE"
    name = f"deploy-{int(time.time() * 1000)}"
    cfn.create_change_set(
        StackName=stack_name,
        ChangeSetName=name,
        ChangeSetType=change_set_type,
        TemplateBody=body,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    deadline = time.monotonic() + timeout_seconds
    while True:
        change_set = cfn.describe_change_set(StackName=stack_name, ChangeSetName=name)
        status = change_set["Status"]
        if status == "CREATE_COMPLETE":
            break
        if status == "FAILED":
            reason = change_set.get("StatusReason", "")
            if "didn't contain changes" in reason or "No updates" in reason:
                cfn.delete_change_set(StackName=stack_name, ChangeSetName=name)
                return stack_outputs(cfn, stack_name)
            raise DeployError(f"change set failed: {reason}")
        _wait(deadline, poll_seconds, "change set")
    cfn.execute_change_set(StackName=stack_name, ChangeSetName=name)
    while True:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if status.endswith("_FAILED") or "ROLLBACK" in status:
            if status.endswith("IN_PROGRESS"):
                _wait(deadline, poll_seconds, "rollback")
                continue
            raise DeployError(f"stack {stack_name} is {status}: {_first_failure(cfn, stack_name)}")
        _wait(deadline, poll_seconds, "stack")


def stack_outputs(cfn: Any, stack_name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _first_failure(cfn: Any, stack_name: str) -> str:
    for event in cfn.describe_stack_events(StackName=stack_name)["StackEvents"]:
        if event["ResourceStatus"].endswith("_FAILED"):
            return f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', 'no reason given')}"
    return "no failed resource reported"


def _wait(deadline: float, poll_seconds: float, what: str) -> None:
    if time.monotonic() > deadline:
        raise DeployError(f"timed out waiting for the {what}")
    time.sleep(poll_seconds)
