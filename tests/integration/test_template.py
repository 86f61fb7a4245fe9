"""The template is tested too: lint, failure handling, least privilege, the contract's outputs."""

import subprocess
import sys
from pathlib import Path

from aggregator.deploy.template import TEMPLATE_PATH, load_template, resources_of_type

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]


def test_cfn_lint_has_no_findings():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE_PATH)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_contract_outputs_are_declared():
    expected = {
        "BucketName",
        "UploadsTopicArn",
        "AlertsTopicArn",
        "InstanceValuesTableName",
        "AggregatesTableName",
        "ThresholdsTableName",
        "DeadLetterQueueUrl",
    }
    assert expected <= set(TEMPLATE["Outputs"])


def test_every_function_has_a_log_group_with_retention():
    for name, function in resources_of_type(TEMPLATE, "AWS::Lambda::Function").items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup", name
        assert "RetentionInDays" in RESOURCES[group]["Properties"], name


def test_every_function_has_a_trigger_with_a_failure_path():
    mappings = resources_of_type(TEMPLATE, "AWS::Lambda::EventSourceMapping").values()
    triggered = {m["Properties"]["FunctionName"]["Ref"] for m in mappings}
    assert triggered == set(resources_of_type(TEMPLATE, "AWS::Lambda::Function"))
    for mapping in mappings:
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        source = props["EventSourceArn"]["Fn::GetAtt"]
        if source[1] == "StreamArn":
            assert props["BisectBatchOnFunctionError"] is True
            assert props["MaximumRetryAttempts"] == {"Ref": "StreamMaximumRetryAttempts"}
            assert props["MaximumRecordAgeInSeconds"] == {"Ref": "StreamMaximumRecordAgeSeconds"}
            destination = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
            assert RESOURCES[destination]["Type"] == "AWS::SQS::Queue"
        else:
            queue = RESOURCES[source[0]]["Properties"]
            dead_letter = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert RESOURCES[dead_letter]["Type"] == "AWS::SQS::Queue"


def test_retries_are_bounded():
    parameters = TEMPLATE["Parameters"]
    assert parameters["StreamMaximumRetryAttempts"]["MaxValue"] <= 10000
    assert parameters["StreamMaximumRetryAttempts"]["Default"] <= 10
    assert parameters["IngestMaxReceiveCount"]["Default"] <= 10


def as_list(value):
    return value if isinstance(value, list) else [value]


def test_no_iam_statement_has_a_wildcard_action_or_resource():
    for name, role in resources_of_type(TEMPLATE, "AWS::IAM::Role").items():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in action for action in actions), name
                resources = (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
                assert "*" not in resources, name


def test_stream_readers_read_only_their_own_stream():
    for mapping in resources_of_type(TEMPLATE, "AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        if props["EventSourceArn"]["Fn::GetAtt"][1] != "StreamArn":
            continue
        function = RESOURCES[props["FunctionName"]["Ref"]]
        role = RESOURCES[function["Properties"]["Role"]["Fn::GetAtt"][0]]
        statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        stream_reads = [s for s in statements if "dynamodb:GetRecords" in s["Action"]]
        assert [s["Resource"] for s in stream_reads] == [props["EventSourceArn"]]


def test_tables_have_streams_pitr_and_on_demand_billing():
    tables = resources_of_type(TEMPLATE, "AWS::DynamoDB::Table")
    for name in ("InstanceValuesTable", "AggregatesTable"):
        assert tables[name]["Properties"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    for name, table in tables.items():
        assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST", name
        assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
    [index] = tables["AggregatesTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "ByDate"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["Date", "Counter"]


def test_bucket_is_versioned_encrypted_private_and_tls_only():
    props = RESOURCES["CountersBucket"]["Properties"]
    assert props["VersioningConfiguration"]["Status"] == "Enabled"
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    [statement] = RESOURCES["CountersBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_uploads_topic_accepts_only_this_bucket_and_account():
    [statement] = RESOURCES["UploadsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert set(statement["Condition"]) == {"ArnLike", "StringEquals"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_notifications_cover_only_the_counters_prefix():
    [config] = RESOURCES["CountersBucket"]["Properties"]["NotificationConfiguration"]["TopicConfigurations"]
    assert config["Event"] == "s3:ObjectCreated:*"
    assert config["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": {"Fn::Sub": "${KeyPrefix}counters/"}}]


def test_every_alarm_notifies_the_ops_topic_not_the_alerts_topic():
    alarms = resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm")
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OpsTopic"}], name
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching", name


def test_alarms_cover_dead_letters_failures_quarantine_errors_and_iterator_age():
    alarms = resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm")

    def watched(alarm):
        props = alarm["Properties"]
        if "Metrics" in props:
            return {
                (m["MetricStat"]["Metric"]["MetricName"], json_dims(m["MetricStat"]["Metric"]["Dimensions"]))
                for m in props["Metrics"]
                if "MetricStat" in m
            }
        return {(props["MetricName"], json_dims(props["Dimensions"]))}

    covered = set().union(*(watched(a) for a in alarms.values()))
    for queue in ("IngestDeadLetterQueue", "StreamFailureQueue"):
        assert (
            "ApproximateNumberOfMessagesVisible",
            f"QueueName={{'Fn::GetAtt': ['{queue}', 'QueueName']}}",
        ) in covered
    assert ("UploadsQuarantined", "service=ingest") in covered
    for function in resources_of_type(TEMPLATE, "AWS::Lambda::Function"):
        for metric in ("Errors", "Throttles"):
            assert (metric, f"FunctionName={{'Ref': '{function}'}}") in covered
    for mapping in resources_of_type(TEMPLATE, "AWS::Lambda::EventSourceMapping").values():
        if mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][1] == "StreamArn":
            function = mapping["Properties"]["FunctionName"]["Ref"]
            assert ("IteratorAge", f"FunctionName={{'Ref': '{function}'}}") in covered


def json_dims(dimensions):
    return ",".join(f"{d['Name']}={d['Value']}" for d in dimensions)


def test_topics_are_encrypted_with_the_key_s3_and_cloudwatch_may_use():
    for name in ("UploadsTopic", "AlertsTopic", "OpsTopic"):
        assert RESOURCES[name]["Properties"]["KmsMasterKeyId"] == {"Ref": "TopicsKey"}
    statements = RESOURCES["TopicsKey"]["Properties"]["KeyPolicy"]["Statement"]
    services = [s for s in statements if "Service" in s["Principal"]]
    assert services[0]["Principal"]["Service"] == ["s3.amazonaws.com", "cloudwatch.amazonaws.com"]
    assert services[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_queues_are_encrypted():
    for name, queue in resources_of_type(TEMPLATE, "AWS::SQS::Queue").items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, name


def test_instance_policy_admits_only_put_object_of_instance_keys_from_instance_sessions():
    [statement] = RESOURCES["InstanceUploadPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement == {
        "Sid": "UploadCounterFilesFromInstanceRoleSessions",
        "Effect": "Allow",
        "Action": "s3:PutObject",
        "Resource": {
            "Fn::Sub": "arn:${AWS::Partition}:s3:::${AWS::StackName}-counters-${AWS::AccountId}"
            "-${AWS::Region}/${KeyPrefix}counters/*/i-*"
        },
        "Condition": {
            "StringLike": {"aws:userid": "*:i-*"},
            "ArnLike": {
                "ec2:SourceInstanceARN": {
                    "Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/i-*"
                }
            },
        },
    }
    ingest = RESOURCES["IngestFunction"]["Properties"]["Environment"]["Variables"]
    assert ingest["REQUIRE_INSTANCE_UPLOADER"] == {"Ref": "RequireInstanceUploader"}
    assert TEMPLATE["Parameters"]["RequireInstanceUploader"]["Default"] == "true"


def test_dashboard_shows_the_pipeline_metrics():
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for metric in (
        "UploadsApplied",
        "CountersWritten",
        "AggregatesWritten",
        "AlertsPublished",
        "IteratorAge",
        "Errors",
    ):
        assert f'"{metric}"' in body


def test_every_suppression_gives_its_reason():
    for name, resource in RESOURCES.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 20, (name, skip)
    text = TEMPLATE_PATH.read_text()
    for line in text.splitlines():
        if line.strip().startswith("- WS") or line.strip().startswith("- ES"):
            assert "#" in line and len(line.split("#", 1)[1].strip()) > 20, line
