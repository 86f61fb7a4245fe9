"""Two gaps between moto 5.2.5 and AWS that the local stack closes, in the process hosting the server.

Both are patches of moto internals, applied once and only by `LocalStack`; each says why.
"""

from __future__ import annotations

import itertools


def apply_moto_shims() -> None:
    add_real_s3_event_fields()
    publish_outputs_after_change_sets()


def add_real_s3_event_fields() -> None:
    """Make moto's S3 notifications carry what real S3's do: versionId and a sequencer.

    Without them the ingest function must read "latest", and an older upload that lands
    after a newer one (before either is ingested) would hide the newer content; with them it
    reads exactly the version each event names, as in AWS. The sequencer is a process-wide
    counter, so it grows with every write like S3's does per key.
    """
    from moto.s3 import notifications

    if getattr(notifications, "_aggregator_patched", False):
        return
    original = notifications._get_s3_event
    counter = itertools.count(1)

    def with_version_and_sequencer(event_name, bucket, key, notification_id):
        event = original(event_name, bucket, key, notification_id)
        obj = event["Records"][0]["s3"]["object"]
        if getattr(key, "version_id", None) and getattr(bucket, "is_versioned", False):
            obj["versionId"] = key.version_id
        obj["sequencer"] = f"{next(counter):016X}"
        return event

    notifications._get_s3_event = with_version_and_sequencer
    notifications._aggregator_patched = True


def publish_outputs_after_change_sets() -> None:
    """moto executes a change set without computing the stack's Outputs (create_stack does);
    CloudFormation publishes them either way, and every CLI command reads them."""
    from moto.cloudformation import models

    backend = models.CloudFormationBackend
    if getattr(backend, "_aggregator_patched", False):
        return
    original = backend.execute_change_set

    def execute_and_publish_outputs(self, change_set_name, stack_name=None):
        original(self, change_set_name, stack_name)
        for stack in self.stacks.values():
            if stack_name in (stack.name, stack.stack_id):
                stack._parse_template()
                stack.output_map = stack._create_output_map()

    backend.execute_change_set = execute_and_publish_outputs
    backend._aggregator_patched = True
