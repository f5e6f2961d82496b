"""Reading change sets and events in AWS's own response shapes (botocore Stubber), for what the
local AWS cannot produce: nested Replacement=Conditional rows, propagated failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from mirror_infra.aws.cfn_answers import PropertyDetail
from mirror_infra.aws.cloudformation import CloudFormation
from mirror_infra.aws.status import ChangeAction
from mirror_infra.deploy.changes import read_changes
from mirror_infra.deploy.events import EventStream
from mirror_infra.deploy.risk import Risk, classify_change

ROOT_CS = "arn:aws:cloudformation:us-east-1:111122223333:changeSet/cs/aaaa"
NESTED_CS = "arn:aws:cloudformation:us-east-1:111122223333:changeSet/cs-Dynamodb/bbbb"
ROOT_ID = "arn:aws:cloudformation:us-east-1:111122223333:stack/mirror-dissonance-staging/1111"
NESTED_ID = "arn:aws:cloudformation:us-east-1:111122223333:stack/mirror-Dynamodb-X/2222"


@pytest.fixture
def cfn():
    client = boto3.client(
        "cloudformation",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    with Stubber(client) as stubber:
        gateway = CloudFormation(client)
        gateway.stubber = stubber
        yield gateway
        stubber.assert_no_pending_responses()


def test_a_removal_whose_data_aws_keeps_is_safe():
    """ResourceChange.PolicyAction (API_ResourceChange.html): Retain and Snapshot keep the old
    resource's data; Delete does not."""
    remove = ChangeAction.REMOVE
    assert classify_change(remove, "AWS::DynamoDB::Table", "", (), "Retain") is Risk.SAFE
    assert classify_change(remove, "AWS::DynamoDB::Table", "", (), "Snapshot") is Risk.SAFE
    assert classify_change(remove, "AWS::DynamoDB::Table", "", (), "Delete") is Risk.DELETES_DATA


@pytest.mark.parametrize(
    ("action", "type_", "replacement", "risk"),
    [
        ("Modify", "AWS::DynamoDB::Table", "True", Risk.REPLACES_DATA),
        ("Modify", "AWS::DynamoDB::Table", "Conditional", Risk.REPLACES_DATA),
        ("Modify", "AWS::DynamoDB::Table", "False", Risk.SAFE),
        ("Remove", "AWS::S3::Bucket", "", Risk.DELETES_DATA),
        ("Remove", "AWS::KMS::Key", "", Risk.DELETES_DATA),
        ("Remove", "AWS::CloudFormation::Stack", "", Risk.DELETES_DATA),
        ("Modify", "AWS::Logs::LogGroup", "True", Risk.REPLACES_DATA),
        ("Modify", "AWS::CloudWatch::Alarm", "True", Risk.SAFE),
        ("Remove", "AWS::CloudWatch::Alarm", "", Risk.SAFE),
        ("Add", "AWS::DynamoDB::Table", "", Risk.SAFE),
        # AWS never replaces a nested stack on update: its own rows are judged instead
        ("Modify", "AWS::CloudFormation::Stack", "True", Risk.SAFE),
        ("Modify", "AWS::CloudFormation::Stack", "Conditional", Risk.SAFE),
        # decided only at execution time: destructive until proven otherwise
        ("Dynamic", "AWS::DynamoDB::Table", "", Risk.REPLACES_DATA),
        ("SyncWithActual", "AWS::S3::Bucket", "", Risk.REPLACES_DATA),
        ("Dynamic", "AWS::CloudWatch::Alarm", "", Risk.SAFE),
    ],
)
def test_risk_classes(action, type_, replacement, risk):
    assert classify_change(ChangeAction(action), type_, replacement) is risk


@pytest.mark.parametrize(
    ("action", "type_", "replacement", "properties", "risk"),
    [
        # DynamoDB deletes items by its TTL attribute: any in-place TTL change can lose data
        ("Modify", "AWS::DynamoDB::Table", "False", ("TimeToLiveSpecification",), Risk.LOSES_DATA),
        (
            "Modify",
            "AWS::DynamoDB::Table",
            "False",
            ("Tags", "TimeToLiveSpecification"),
            Risk.LOSES_DATA,
        ),
        ("Modify", "AWS::DynamoDB::Table", "False", ("Tags",), Risk.SAFE),
        ("Modify", "AWS::DynamoDB::Table", "False", (), Risk.SAFE),
        # replacing or removing the table is worse, and says so
        (
            "Modify",
            "AWS::DynamoDB::Table",
            "True",
            ("KeySchema", "TimeToLiveSpecification"),
            Risk.REPLACES_DATA,
        ),
        ("Remove", "AWS::DynamoDB::Table", "", ("TimeToLiveSpecification",), Risk.DELETES_DATA),
        # a new table has no items to lose
        ("Add", "AWS::DynamoDB::Table", "", ("TimeToLiveSpecification",), Risk.SAFE),
        # a stateless type's in-place changes keep no data to lose
        ("Modify", "AWS::SNS::Topic", "False", ("TimeToLiveSpecification",), Risk.SAFE),
        # on a stateful type, a property never reviewed is risky (issue 23)
        ("Modify", "AWS::Logs::LogGroup", "False", ("TimeToLiveSpecification",), Risk.LOSES_DATA),
    ],
)
def test_in_place_changes_that_lose_data(action, type_, replacement, properties, risk):
    details = tuple(PropertyDetail(p, "DirectModification", "Static") for p in properties)
    assert classify_change(ChangeAction(action), type_, replacement, details) is risk


def _row(action, logical, type_, replacement=None, details=(), change_set=None):
    rc = {
        "Action": action,
        "LogicalResourceId": logical,
        "ResourceType": type_,
        "Scope": ["Properties"] if details else [],
        "Details": [
            {
                "Target": {
                    "Attribute": "Properties",
                    "Name": name,
                    "RequiresRecreation": recreation,
                },
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            }
            for name, recreation in details
        ],
    }
    if replacement is not None:
        rc["Replacement"] = replacement
    if change_set:
        rc["ChangeSetId"] = change_set
    return {"Type": "Resource", "ResourceChange": rc}


def test_nested_rows_follow_their_stack_with_the_real_risk(cfn):
    root = {
        "ChangeSetId": ROOT_CS,
        "Status": "CREATE_COMPLETE",
        "Changes": [
            _row(
                "Modify",
                "Dynamodb",
                "AWS::CloudFormation::Stack",
                "False",
                [("TemplateURL", "Never")],
                NESTED_CS,
            ),
        ],
    }
    nested_page_1 = {
        "ChangeSetId": NESTED_CS,
        "Status": "CREATE_COMPLETE",
        "Changes": [
            _row(
                "Modify",
                "BlockCounterTable",
                "AWS::DynamoDB::Table",
                "True",
                [("KeySchema", "Always"), ("AttributeDefinitions", "Never")],
            ),
        ],
        "NextToken": "page2",
    }
    nested_page_2 = {
        "ChangeSetId": NESTED_CS,
        "Status": "CREATE_COMPLETE",
        "Changes": [
            _row(
                "Modify",
                "FpEventsTable",
                "AWS::DynamoDB::Table",
                "False",
                [("PointInTimeRecoverySpecification", "Never")],
            )
        ],
    }
    cfn.stubber.add_response("describe_change_set", root, {"ChangeSetName": ROOT_CS})
    cfn.stubber.add_response("describe_change_set", nested_page_1, {"ChangeSetName": NESTED_CS})
    cfn.stubber.add_response(
        "describe_change_set", nested_page_2, {"ChangeSetName": NESTED_CS, "NextToken": "page2"}
    )
    changes = read_changes(cfn, cfn.change_set(ROOT_CS))
    assert [(c.qualified_id, c.depth, c.risk) for c in changes] == [
        ("Dynamodb", 0, Risk.SAFE),
        ("Dynamodb.BlockCounterTable", 1, Risk.REPLACES_DATA),
        ("Dynamodb.FpEventsTable", 1, Risk.SAFE),
    ]
    assert changes[1].properties == ("KeySchema", "AttributeDefinitions")


def _event(stack_id, logical, status, reason, when, type_="AWS::DynamoDB::Table", physical=""):
    return {
        "StackId": stack_id,
        "EventId": f"{logical}-{status}-{when.timestamp()}",
        "StackName": "s",
        "LogicalResourceId": logical,
        "PhysicalResourceId": physical,
        "ResourceType": type_,
        "Timestamp": when,
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
    }


def test_root_cause_is_the_first_real_failure_inside_a_nested_stack(cfn):
    t0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    at = [t0 + timedelta(seconds=i) for i in range(10)]
    root_events = [  # newest first, as AWS returns them
        _event(
            ROOT_ID,
            "Dynamodb",
            "CREATE_FAILED",
            "Embedded stack arn:... was not successfully created: The following resource(s) "
            "failed to create: [ConsentTable].",
            at[4],
            "AWS::CloudFormation::Stack",
            NESTED_ID,
        ),
        _event(
            ROOT_ID,
            "Dynamodb",
            "CREATE_IN_PROGRESS",
            "",
            at[1],
            "AWS::CloudFormation::Stack",
            NESTED_ID,
        ),
    ]
    nested_events = [
        _event(
            NESTED_ID,
            "mirror-dissonance-staging-Dynamodb-X1Y2",  # a nested stack's own event
            "ROLLBACK_COMPLETE",
            "",
            at[5],
            "AWS::CloudFormation::Stack",
            NESTED_ID,
        ),
        _event(NESTED_ID, "FpEventsTable", "CREATE_FAILED", "Resource creation cancelled", at[3]),
        _event(
            NESTED_ID,
            "ConsentTable",
            "CREATE_FAILED",
            'Resource handler returned message: "Table already exists: '
            'mirror-dissonance-staging-consent"',
            at[2],
        ),
    ]
    for stack_id, events in ((ROOT_ID, root_events), (NESTED_ID, nested_events)):
        cfn.stubber.add_response(
            "describe_stack_events", {"StackEvents": events}, {"StackName": stack_id}
        )
    stream = EventStream(cfn, ROOT_ID, t0)
    # the root's events name the nested stack's id, so the same poll reads it too, in time order
    assert [e.qualified_id for e in stream.poll()] == [
        "Dynamodb",
        "Dynamodb.ConsentTable",
        "Dynamodb.FpEventsTable",
        "Dynamodb",
        "Dynamodb",  # its own events are named as its parent names it
    ]
    cause = stream.root_cause()
    assert cause.qualified_id == "Dynamodb.ConsentTable"
    assert "Table already exists" in cause.reason


def _nested_row(details: list[dict], change_set_id: str | None = NESTED_CS) -> dict:
    row = {
        "Action": "Modify",
        "LogicalResourceId": "Dynamodb",
        "PhysicalResourceId": NESTED_ID,
        "ResourceType": "AWS::CloudFormation::Stack",
        "Replacement": "False",
        "Scope": [],
        "Details": details,
    }
    if change_set_id:
        row["ChangeSetId"] = change_set_id
    return {"Type": "Resource", "ResourceChange": row}


AUTOMATIC = {
    "Target": {"Attribute": "Properties", "RequiresRecreation": "Never"},
    "Evaluation": "Dynamic",
    "ChangeSource": "Automatic",
}
PARAMETER = {
    "Target": {"Attribute": "Properties", "Name": "Parameters", "RequiresRecreation": "Never"},
    "Evaluation": "Static",
    "ChangeSource": "ParameterReference",
    "CausingEntity": "AlertEmail",
}
TABLE_ROW = {
    "Type": "Resource",
    "ResourceChange": {
        "Action": "Modify",
        "LogicalResourceId": "Table",
        "ResourceType": "AWS::DynamoDB::Table",
        "Replacement": "False",
        "Scope": ["Properties"],
        "Details": [],
    },
}


@pytest.mark.parametrize(
    ("root_rows", "nested_rows", "unchanged"),
    [
        # API_ResourceChangeDetail: nested stacks are Modify rows with ChangeSource Automatic
        ([_nested_row([AUTOMATIC])], [], True),
        ([_nested_row([AUTOMATIC])], [TABLE_ROW], False),  # the nested stack does change
        ([_nested_row([AUTOMATIC, PARAMETER])], [], False),  # its parameters change
        ([_nested_row([AUTOMATIC], change_set_id=None)], None, False),  # no nested change set
        ([_nested_row([AUTOMATIC]), TABLE_ROW], [], False),
    ],
)
def test_only_automatic_rows_of_unchanged_nested_stacks_mean_no_changes(
    cfn, root_rows, nested_rows, unchanged
):
    from mirror_infra.deploy import phantom
    from mirror_infra.deploy.changes import changes_nothing, read_rows

    root = {"ChangeSetId": ROOT_CS, "Changes": root_rows, "Status": "CREATE_COMPLETE"}
    cfn.stubber.add_response("describe_change_set", root, {"ChangeSetName": ROOT_CS})
    described = cfn.change_set(ROOT_CS)
    if nested_rows is not None:
        cfn.stubber.add_response(
            "describe_change_set",
            {"ChangeSetId": NESTED_CS, "Changes": nested_rows, "Status": "CREATE_COMPLETE"},
            {"ChangeSetName": NESTED_CS},
        )
    assert changes_nothing(read_rows(cfn, described), phantom.NONE) is unchanged


def test_events_read_before_a_throttled_call_are_not_lost():
    """A poll reads the root's events, then a nested stack's call is throttled: the root's
    events come with the next poll instead of vanishing."""
    from botocore.exceptions import ClientError

    from mirror_infra.aws.cfn_answers import RawEvent

    t0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    def raw(event_id, logical, status, physical="", minutes=1):
        type_ = "AWS::CloudFormation::Stack" if physical else "AWS::DynamoDB::Table"
        return RawEvent(
            event_id, t0 + timedelta(minutes=minutes), logical, type_, status, "", physical
        )

    class Gateway:
        throttle = True

        def events(self, stack_id):
            if stack_id == ROOT_ID:
                yield raw("r1", "Dynamodb", "CREATE_IN_PROGRESS", NESTED_ID)
            elif self.throttle:
                self.throttle = False
                raise ClientError(
                    {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "x"
                )
            else:
                yield raw("n1", "ConsentTable", "CREATE_IN_PROGRESS", minutes=2)

    stream = EventStream(Gateway(), ROOT_ID, t0)
    with pytest.raises(ClientError) as raised:
        stream.poll()
    assert raised.value.response["Error"]["Code"] == "Throttling"
    assert [e.event_id for e in stream.poll()] == ["r1", "n1"]


def test_a_nested_stacks_end_comes_after_its_own_events_and_the_roots_after_all():
    """The root's events report Dynamodb CREATE_COMPLETE in a poll that reads no nested stack
    (the call budget reads them in turn): that end is held back until the poll that reads
    Dynamodb's own events, and the root's own end until then too; the history has everything
    at once (the root's end decides when the operation is over)."""
    from mirror_infra.aws.cfn_answers import RawEvent

    t0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    stack = "AWS::CloudFormation::Stack"

    def raw(event_id, logical, status, seconds, physical="", type_="AWS::DynamoDB::Table"):
        return RawEvent(
            event_id, t0 + timedelta(seconds=seconds), logical, type_, status, "", physical
        )

    root_name = "mirror-dissonance-staging"
    by_stack = {
        ROOT_ID: [
            [raw("r1", "Dynamodb", "CREATE_IN_PROGRESS", 1, NESTED_ID, stack)],
            [
                raw("r3", root_name, "CREATE_COMPLETE", 5, ROOT_ID, stack),
                raw("r2", "Dynamodb", "CREATE_COMPLETE", 4, NESTED_ID, stack),
            ],
        ],
        NESTED_ID: [
            [],
            [
                raw("n2", "ConsentTable", "CREATE_COMPLETE", 3),
                raw("n1", "ConsentTable", "CREATE_IN_PROGRESS", 2),
            ],
        ],
    }

    class Gateway:
        reads = {ROOT_ID: 0, NESTED_ID: 0}

        def events(self, stack_id):
            pages = by_stack[stack_id]
            seen = [e for page in pages[: self.reads[stack_id] + 1] for e in page]
            self.reads[stack_id] = min(self.reads[stack_id] + 1, len(pages) - 1)
            return iter(sorted(seen, key=lambda e: e.timestamp, reverse=True))

    stream = EventStream(Gateway(), ROOT_ID, t0)
    assert [e.event_id for e in stream.poll()] == ["r1"]  # root, then Dynamodb (nothing yet)
    assert [e.event_id for e in stream.poll(limit=0)] == []  # Dynamodb's end: held
    assert stream.root_ended() is not None  # the operation is over all the same
    assert [e.event_id for e in stream.poll(root=False)] == ["n1", "n2", "r2", "r3"]
