"""GetTemplateSummary's ResourceIdentifierSummaries: for resource import, "the target resources
of a specific type in your import template (for example, all AWS::S3::Bucket resources) and the
properties you can provide during the import to identify resources of that type"; "BucketName
is a possible identifier property for AWS::S3::Bucket resources"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceIdentifierSummary.html).
The resource-import pages use it to find the identifier of each resource to import
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/import-resources-manually.html).
"""

from __future__ import annotations

from tests.conformance.templates import log_group, template


def test_the_summary_names_each_importable_types_identifier(target):
    body = template(
        {
            "First": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
            "Second": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
            "Logs": log_group(1),
        }
    )
    found = target.client("cloudformation").get_template_summary(TemplateBody=body)
    summaries = {s["ResourceType"]: s for s in found["ResourceIdentifierSummaries"]}
    buckets = summaries["AWS::S3::Bucket"]
    assert sorted(buckets["LogicalResourceIds"]) == ["First", "Second"]
    assert buckets["ResourceIdentifiers"] == ["BucketName"]
    assert summaries["AWS::Logs::LogGroup"]["LogicalResourceIds"] == ["Logs"]
    assert set(found["ResourceTypes"]) == {"AWS::S3::Bucket", "AWS::Logs::LogGroup"}
