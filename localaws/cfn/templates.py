"""Reading a `TemplateURL` from the local S3.

Corrects moto, which resolves AWS-style S3 URLs only and fails on a path-style URL of the local
endpoint itself (`http://127.0.0.1:4590/bucket/key`, SPEC §4).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlparse

from localaws.cfn.intrinsics import TemplateError

_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+)\.s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$")
_PATH_STYLE_HOST = re.compile(r"^s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def bucket_and_key(url: str) -> tuple[str, str]:
    """The S3 bucket and key a template URL names (virtual-host, path-style, or loopback)."""
    parts = urlparse(url)
    host = (parts.hostname or "").lower()
    path = unquote(parts.path.lstrip("/"))
    if parts.scheme == "s3":
        return parts.netloc, path
    match = _VIRTUAL_HOST.match(host)
    if match and not _PATH_STYLE_HOST.match(host):
        return match.group("bucket"), path
    if _PATH_STYLE_HOST.match(host) or host in _LOOPBACK:
        bucket, _, key = path.partition("/")
        if bucket and key:
            return bucket, key
    raise TemplateError("TemplateURL must be a supported URL.")


def fetch(url: str, account_id: str) -> str:
    """The template body at `url`, from the local S3 (AWS's error wording on failure)."""
    from moto.s3.models import s3_backends

    bucket, key = bucket_and_key(url)
    backend = s3_backends[account_id]["aws"]
    try:
        obj = backend.get_object(bucket, key)
    except Exception:
        obj = None
    if obj is None:
        raise TemplateError(
            f"S3 error: The specified key does not exist. (bucket {bucket}, key {key})"
        )
    return obj.value.decode("utf-8")
