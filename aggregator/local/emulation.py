"""What moto's CloudFormation ignores, applied from the template's own declarations after deploy."""

from __future__ import annotations

import json
from typing import Any

from aggregator.deploy.template import Resolver, resources_of_type


def stack_resolver(clients: Any, stack_name: str, template: dict) -> Resolver:
    """A Resolver for one created stack: Refs from its resources and parameters, GetAtt through AWS APIs."""
    cfn = clients("cloudformation")
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    account = stack["StackId"].split(":")[4]
    region = stack["StackId"].split(":")[3]
    refs = {"AWS::StackName": stack_name, "AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": "aws"}
    for declared, spec in template.get("Parameters", {}).items():
        if "Default" in spec:
            refs[declared] = str(spec["Default"])
    refs.update({p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])})
    paginator = cfn.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            if summary.get("LogicalResourceId"):
                refs[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
    resources = template["Resources"]

    def attribute(logical_id: str, name: str) -> str:
        kind = resources[logical_id]["Type"]
        physical = refs[logical_id]
        if kind == "AWS::SQS::Queue" and name == "Arn":
            return clients("sqs").get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
        if kind == "AWS::DynamoDB::Table" and name in ("Arn", "StreamArn"):
            table = clients("dynamodb").describe_table(TableName=physical)["Table"]
            return table["TableArn"] if name == "Arn" else table["LatestStreamArn"]
        if kind == "AWS::S3::Bucket" and name == "Arn":
            return f"arn:aws:s3:::{physical}"
        if kind == "AWS::Lambda::Function" and name == "Arn":
            return clients("lambda").get_function(FunctionName=physical)["Configuration"]["FunctionArn"]
        raise KeyError(f"the local stack cannot resolve {logical_id}.{name}")

    return Resolver(refs, attribute)


def template_outputs(template: dict, resolve: Resolver) -> dict[str, str]:
    """The stack's Outputs computed from the template (moto leaves them empty after a change set)."""
    return {name: str(resolve(spec["Value"])) for name, spec in template.get("Outputs", {}).items()}


def apply_ignored_resources(clients: Any, template: dict, resolve: Resolver) -> None:
    """Bucket versioning and notifications, and SNS subscriptions, exactly as the template declares them."""
    for logical_id, bucket in resources_of_type(template, "AWS::S3::Bucket").items():
        versioning = bucket["Properties"].get("VersioningConfiguration")
        if versioning:
            clients("s3").put_bucket_versioning(
                Bucket=resolve({"Ref": logical_id}), VersioningConfiguration={"Status": versioning["Status"]}
            )
        notification = bucket["Properties"].get("NotificationConfiguration")
        if not notification:
            continue
        topics = []
        for config in resolve(notification.get("TopicConfigurations", [])):
            entry = {"TopicArn": config["Topic"], "Events": [config["Event"]]}
            rules = config.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}
            topics.append(entry)
        clients("s3").put_bucket_notification_configuration(
            Bucket=resolve({"Ref": logical_id}), NotificationConfiguration={"TopicConfigurations": topics}
        )
    for subscription in resources_of_type(template, "AWS::SNS::Subscription").values():
        props = resolve(subscription["Properties"])
        attributes = {"RawMessageDelivery": str(props.get("RawMessageDelivery", False)).lower()}
        if "FilterPolicy" in props:
            attributes["FilterPolicy"] = json.dumps(props["FilterPolicy"])
        existing = clients("sns").list_subscriptions_by_topic(TopicArn=props["TopicArn"]).get("Subscriptions", [])
        if any(s["Protocol"] == props["Protocol"] and s["Endpoint"] == props["Endpoint"] for s in existing):
            continue
        clients("sns").subscribe(
            TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"], Attributes=attributes
        )
