"""The application role against the application's own AWS calls, least privilege both ways.

CONTRACT lists every AWS call that Phase Mirror's adapters make
(MultiplicityFoundation/Phase-Mirror, packages/mirror-dissonance/src/adapters/aws/, as of
08e1cb9, each file read at the commit where it last changed before it: fp-store.ts and index.ts
at af87abc, block-counter.ts at 5c45efc, object-store.ts at 2fe3abe). consent-store.ts and
secret-store.ts are not held at af87abc by the source index this was read from; they were
transcribed from its 0bf820b version, whose classes and imports are the ones af87abc's index.ts
wires, and every held version of those two classes makes the same calls. index.ts wires these
five adapters; its baselineStorage and calibrationStore throw "not yet implemented" and call
nothing, as do fp-store's recordFalsePositive and getFalsePositivesByRule.

Besides the adapters' own calls, CONTRACT holds the KMS calls that the services make with the
caller's permissions when the data is under the environment's key, and the two grants SPEC §2
asks for that no adapter call needs (metrics, logs), each marked with where it comes from.

Each row is checked against the app-role policy of the built iam template, resolved for account
123456789012 in us-east-1 by following the root template's wiring: the names it passes, and the
key's ARN from the resource behind the Kms stack's output; the expected ARNs below are written
from SPEC §2's names, not from the code. A granted row must be allowed, and the same call on the
other environment's resource denied; a row "not granted on purpose" must be denied; and every
piece of what the role grants (action x resource x condition value) must be needed by some
granted row.

**Why a policy evaluator and not the local AWS with IAM enforced.** moto (5.2.5) can enforce
IAM (INITIAL_NO_AUTH_ACTION_COUNT / set_initial_no_auth_action_count) and accepts assumed-role
credentials, but its own docstring (moto/iam/access_control.py) says Resource and Condition are
not supported: DynamoDB and SSM responses define no `_determine_resource`, so every call is
checked against resource "*", which a policy naming a table's ARN never matches (measured: an
assumed role allowed dynamodb:GetItem on its table's ARN gets 403 for that GetItem, while the
same role's Query, allowed on "*", passes; every least-privilege call would be denied);
Conditions are checked only against the request's own parameters, so no kms:ViaService
call could pass; SSM and S3 never call KMS with the caller's credentials at all; and the setting
is process-wide, so it would switch authentication on for
the whole shared local AWS. Such a test could only say "denied" for everything. Evaluating the
documents with a small evaluator (tests/contract/policy.py, tested in test_policy.py) checks
exactly the question asked — this action on this resource under this context — and fails
closed on anything it does not model.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from tests.contract.policy import (
    Decision,
    Request,
    Unsupported,
    evaluate,
    grants,
    pseudo_parameters,
    resolve,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
ENV = "staging"
OTHER_ENV = "production"
KEY_ID = "5f0c9a1e-2b3d-4c5e-8f70-91a2b3c4d5e6"  # KMS assigns the id; any id will do
OTHER_KEY_ID = "0d9e8f7a-6b5c-4d3e-9f21-0a1b2c3d4e5f"


def table(suffix: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/mirror-dissonance-{ENV}-{suffix}"


FP_EVENTS = table("fp-events")
FINDING_INDEX = f"{FP_EVENTS}/index/FindingIndex"
CONSENT = table("consent")
COUNTER = table("block-counter")
NONCE = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/guardian/{ENV}/redaction_nonce_v1"
NONCE_PATH = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/guardian/{ENV}"
BUCKET = f"arn:aws:s3:::mirror-{ENV}-baselines-{ACCOUNT}-{REGION}"
BASELINE = f"{BUCKET}/baselines/example-org/example-repo.json"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/mirror-dissonance/{ENV}/app"


def via(service: str) -> dict[str, str]:
    return {"kms:ViaService": f"{service}.{REGION}.amazonaws.com"}


@dataclass(frozen=True)
class Call:
    """One AWS call: what the application asks for, where it comes from, and whether the role
    must allow it (with the reason where that is not obvious)."""

    action: str
    resource: str
    source: str  # the adapter file, or where a non-adapter need comes from
    function: str
    context: dict[str, str] = field(default_factory=dict)
    granted: bool = True
    why: str = ""

    @property
    def service(self) -> str:
        return self.action.split(":")[0]

    @property
    def id(self) -> str:
        kind = "" if self.granted else "DENIED "
        return f"{kind}{self.source}:{self.function}:{self.action}:{self.resource.split(':')[-1]}"


SECURE_STRING = "GetParameter/GetParametersByPath WithDecryption on a SecureString"
TABLE_UNDER_KEY = (
    "DynamoDB uses the table's customer managed key with the caller's permissions "
    "(AWS's key policy for DynamoDB lists these actions)"
)
ROTATION = (
    "rotation is mirror-infra's job (rotate-nonce adds a version, never overwrites): "
    "the application must not be able to overwrite a nonce"
)

CONTRACT: tuple[Call, ...] = (
    # fp-store.ts
    Call("dynamodb:PutItem", FP_EVENTS, "fp-store.ts", "recordEvent"),
    Call("dynamodb:Query", FP_EVENTS, "fp-store.ts", "getWindowByCount"),
    Call("dynamodb:Query", FP_EVENTS, "fp-store.ts", "getWindowBySince"),
    Call("dynamodb:Query", FINDING_INDEX, "fp-store.ts", "markFalsePositive"),
    Call("dynamodb:UpdateItem", FP_EVENTS, "fp-store.ts", "markFalsePositive"),
    Call("dynamodb:Query", FINDING_INDEX, "fp-store.ts", "isFalsePositive"),
    # consent-store.ts
    Call("dynamodb:PutItem", CONSENT, "consent-store.ts", "recordConsent"),
    Call("dynamodb:PutItem", CONSENT, "consent-store.ts", "revokeConsent"),
    Call("dynamodb:GetItem", CONSENT, "consent-store.ts", "getConsentRecords"),
    # block-counter.ts
    Call("dynamodb:UpdateItem", COUNTER, "block-counter.ts", "increment"),
    Call("dynamodb:GetItem", COUNTER, "block-counter.ts", "getCount"),
    # secret-store.ts
    Call("ssm:GetParameter", NONCE, "secret-store.ts", "getNonce"),
    Call(
        "ssm:GetParametersByPath",
        NONCE_PATH + "/",
        "secret-store.ts",
        "getNonces",
        why="authorized against the requested path, which the adapter sends with its slash",
    ),
    Call(
        "ssm:GetParametersByPath",
        NONCE_PATH,
        "secret-store.ts",
        "getNonces",
        why="the same path without the trailing slash, the form AWS's examples show",
    ),
    Call("ssm:PutParameter", NONCE, "secret-store.ts", "rotateNonce", granted=False, why=ROTATION),
    Call(
        "kms:Encrypt",
        KEY,
        "secret-store.ts",
        "rotateNonce",
        via("ssm"),
        granted=False,
        why="SSM encrypts the new SecureString value; " + ROTATION,
    ),
    Call("kms:Decrypt", KEY, "secret-store.ts", "getNonce", via("ssm"), why=SECURE_STRING),
    Call("kms:Decrypt", KEY, "secret-store.ts", "getNonces", via("ssm"), why=SECURE_STRING),
    # object-store.ts
    Call("s3:GetObject", BASELINE, "object-store.ts", "getBaseline"),
    Call(
        "s3:ListBucket",
        BUCKET,
        "object-store.ts",
        "getBaseline",
        why="S3 answers a missing key with NoSuchKey (404), which the adapter returns as null, "
        "only to a caller allowed s3:ListBucket; otherwise AccessDenied (403)",
    ),
    Call(
        "kms:Decrypt",
        KEY,
        "object-store.ts",
        "getBaseline",
        via("s3"),
        why="the bucket's default encryption is SSE-KMS with the environment's key",
    ),
    Call("s3:PutObject", BASELINE, "object-store.ts", "putBaseline"),
    Call(
        "kms:GenerateDataKey",
        KEY,
        "object-store.ts",
        "putBaseline",
        via("s3"),
        why="the bucket's default encryption is SSE-KMS with the environment's key",
    ),
    Call(
        "s3:ListBucketVersions",
        BUCKET,
        "object-store.ts",
        "listBaselineVersions",
        why="ListObjectVersions is authorized by s3:ListBucketVersions",
    ),
    # every table call, on tables encrypted with the environment's key
    *(
        Call(
            action,
            KEY,
            "fp/consent/block-counter",
            "every table call",
            via("dynamodb"),
            why=TABLE_UNDER_KEY,
        )
        for action in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
    ),
    # SPEC §2 grants these; no adapter at 08e1cb9 calls them (the application's runtime does)
    Call(
        "cloudwatch:PutMetricData",
        "*",
        "SPEC §2",
        "metrics in the environment's namespace",
        {"cloudwatch:namespace": f"PhaseMirror/{ENV}"},
        why="PutMetricData has no resource-level permissions; the namespace condition limits it",
    ),
    Call("logs:CreateLogStream", f"{LOG_GROUP}:log-stream:app-1", "SPEC §2", "application logs"),
    Call("logs:PutLogEvents", f"{LOG_GROUP}:log-stream:app-1", "SPEC §2", "application logs"),
)

ADAPTER_FILES = {
    "fp-store.ts",
    "consent-store.ts",
    "block-counter.ts",
    "secret-store.ts",
    "object-store.ts",
}
GRANTED = [c for c in CONTRACT if c.granted]
REFUSED = [c for c in CONTRACT if not c.granted]


# --- the role's policy, resolved as CloudFormation would for this account and region ----------


def _arn_of(resource: dict, refs: dict, key_id: str) -> str:
    """A resource's Arn attribute as AWS's documented return values build it (a key's id is
    AWS's choice: `key_id`)."""
    props = resolve(resource.get("Properties", {}), refs)
    kind = resource["Type"]
    if kind == "AWS::DynamoDB::Table":
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{props['TableName']}"
    if kind == "AWS::S3::Bucket":
        return f"arn:aws:s3:::{props['BucketName']}"
    if kind == "AWS::Logs::LogGroup":
        return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{props['LogGroupName']}:*"
    if kind == "AWS::KMS::Key":
        return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"
    raise Unsupported(f"no Arn rule for {kind}")


class Wiring:
    """The values a nested stack's parameters take, following the root's wiring."""

    def __init__(self, built_env: dict[str, dict], key_id: str) -> None:
        self.built = built_env
        self.root = built_env["Root"]
        self.key_id = key_id
        self._refs: dict[str, dict] = {}

    def refs(self, stack: str) -> dict:
        if stack in self._refs:
            return self._refs[stack]
        refs: dict = pseudo_parameters(ACCOUNT, REGION)
        self._refs[stack] = refs
        passed = self.root["Resources"][stack]["Properties"].get("Parameters", {})
        for name, value in passed.items():
            try:
                refs[name] = self._value(value)
            except Unsupported:
                continue  # not one this test needs: a Ref to it fails loudly later
        return refs

    def _value(self, value):
        if not (isinstance(value, dict) and "Fn::GetAtt" in value):
            # a name (SPEC §2): a literal, or built from the pseudo parameters
            return resolve(value, pseudo_parameters(ACCOUNT, REGION))
        stack, attribute = value["Fn::GetAtt"]
        output = self.built[stack]["Outputs"][attribute.removeprefix("Outputs.")]["Value"]
        if "Fn::GetAtt" in output:
            logical_id, att = output["Fn::GetAtt"]
            if att != "Arn":
                raise Unsupported(f"GetAtt {logical_id}.{att}")
            resource = self.built[stack]["Resources"][logical_id]
            return _arn_of(resource, self.refs(stack), self.key_id)
        return resolve(output, self.refs(stack))


def app_role_policy(built_env: dict[str, dict], key_id: str = KEY_ID) -> dict:
    """The app role's only policy document, resolved. Fails if the role could get permissions
    any other way (managed policies, separate policy resources)."""
    iam = built_env["Iam"]
    roles = {k: r for k, r in iam["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert list(roles) == ["AppRole"]
    others = [
        k
        for stack in built_env.values()
        for k, r in stack.get("Resources", {}).items()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")
    ]
    assert others == []
    props = roles["AppRole"]["Properties"]
    assert "ManagedPolicyArns" not in props and "PermissionsBoundary" not in props
    (policy,) = props["Policies"]
    return resolve(policy["PolicyDocument"], Wiring(built_env, key_id).refs("Iam"))


@pytest.fixture(scope="module")
def policy(built) -> dict:
    return app_role_policy(built[ENV])


def _request(call: Call) -> Request:
    return Request(call.action, call.resource, call.context)


def _other_environment(call: Call) -> Call:
    """The same call on the other environment's resource (or another key)."""
    moved = replace(
        call,
        resource=call.resource.replace(ENV, OTHER_ENV).replace(KEY_ID, OTHER_KEY_ID),
        context={k: v.replace(ENV, OTHER_ENV) for k, v in call.context.items()},
    )
    assert moved != call, f"{call.id} names nothing environment-specific"
    return moved


# --- the table itself ---------------------------------------------------------------------------


def test_the_contract_names_every_adapter_and_says_why_a_call_is_refused():
    sources = {c.source for c in CONTRACT}
    assert sources >= ADAPTER_FILES
    assert sources - ADAPTER_FILES == {"fp/consent/block-counter", "SPEC §2"}
    for call in REFUSED:
        assert call.why, call.id
    assert {c.service for c in CONTRACT} == {"dynamodb", "ssm", "s3", "kms", "cloudwatch", "logs"}


# --- both ways ----------------------------------------------------------------------------------


@pytest.mark.parametrize("call", GRANTED, ids=lambda c: c.id)
def test_the_role_allows_each_call_the_application_makes(policy, call):
    assert evaluate(policy, _request(call)) is Decision.ALLOW, call.why or call.id


@pytest.mark.parametrize("call", GRANTED, ids=lambda c: c.id)
def test_only_on_this_environments_resource(policy, call):
    other = _other_environment(call)
    assert evaluate(policy, _request(other)) is not Decision.ALLOW, other


@pytest.mark.parametrize("call", REFUSED, ids=lambda c: c.id)
def test_the_role_denies_what_is_not_granted_on_purpose(policy, call):
    assert evaluate(policy, _request(call)) is not Decision.ALLOW, call.why


def test_the_role_grants_nothing_that_no_call_needs(policy):
    unneeded = [
        f"{g.sid}: {g.action} on {g.resource} {g.condition or ''}".strip()
        for g in grants(policy)
        if not any(g.covers(_request(call)) for call in GRANTED)
    ]
    assert unneeded == []


def test_production_role_is_the_same_contract(built):
    # production's names differ only by the environment: every granted call, moved there, is
    # allowed by production's role, and every refused one denied
    prod = app_role_policy(built[OTHER_ENV], OTHER_KEY_ID)
    for call in GRANTED:
        assert evaluate(prod, _request(_other_environment(call))) is Decision.ALLOW, call.id
    for call in REFUSED:
        assert evaluate(prod, _request(_other_environment(call))) is not Decision.ALLOW, call.id
