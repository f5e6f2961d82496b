"""AWS partitions as botocore knows them (its data/partitions.json): each partition's name, the
DNS suffix of its endpoints and its regions. Every ARN and URL the tool builds for a region, and
every ARN pattern it validates, comes from here, so a region of any partition (China, GovCloud,
the ISO partitions, the European Sovereign Cloud) gets its own, never the commercial one."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Partition:
    name: str  # the ARN's partition: aws, aws-cn, aws-us-gov, aws-iso, ...
    dns_suffix: str  # what ${AWS::URLSuffix} is: amazonaws.com, amazonaws.com.cn, c2s.ic.gov, ...
    regions: frozenset[str]  # the regions botocore lists (its *-global pseudo-regions left out)
    region_regex: str  # botocore's pattern for regions it does not list yet

    def arn(self, service: str, region: str, account: str, resource: str) -> str:
        return f"arn:{self.name}:{service}:{region}:{account}:{resource}"

    def s3_url(self, bucket: str, region: str, key: str) -> str:
        """The virtual-hosted-style URL of an object, as the root template builds a nested
        stack's TemplateURL (https://${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}/key)."""
        return f"https://{bucket}.s3.{region}.{self.dns_suffix}/{key}"

    def holds(self, region: str) -> bool:
        return region in self.regions or re.match(self.region_regex, region) is not None


@cache
def partitions() -> tuple[Partition, ...]:
    """Every partition in botocore's data, in its order (read directly: a session costs 0.2 s)."""
    import botocore

    table = Path(botocore.__file__).parent / "data" / "partitions.json"
    found = []
    for p in json.loads(table.read_text(encoding="utf-8"))["partitions"]:
        found.append(
            Partition(
                p["outputs"]["name"],
                p["outputs"]["dnsSuffix"],
                frozenset(r for r in p["regions"] if not r.endswith("-global")),
                p["regionRegex"],
            )
        )
    return tuple(found)


def of_region(region: str) -> Partition:
    """The partition of `region`: the one that lists it, else the one whose pattern it matches
    (botocore's own order); ValueError when none does."""
    for p in partitions():
        if region in p.regions:
            return p
    for p in partitions():
        if p.holds(region):
            return p
    raise ValueError(f"{region!r} is in no AWS partition botocore knows")


def names_pattern() -> str:
    """A regex alternation of every partition name (for ARN patterns)."""
    return "|".join(re.escape(p.name) for p in partitions())


def dns_suffixes_pattern() -> str:
    """A regex alternation of every partition's DNS suffix (for service principals)."""
    return "|".join(sorted({re.escape(p.dns_suffix) for p in partitions()}))
