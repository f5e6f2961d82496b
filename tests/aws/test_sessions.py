"""Sessions share botocore's data, never a target's settings: every Target reads botocore's JSON
models through the process's one loader, and each keeps its own region, profile and
credentials."""

from __future__ import annotations

import pytest

from mirror_infra.aws.target import Target
from mirror_infra.errors import TargetError


def _loader(target: Target):
    return target.session._session.get_component("data_loader")


def test_targets_share_one_loader_whose_search_paths_do_not_grow():
    targets = [
        Target(region=region, local=True, endpoint_url="http://127.0.0.1:1")
        for region in ("us-east-1", "eu-west-1", "us-west-2")
    ]
    loaders = {id(_loader(t)) for t in targets}
    assert len(loaders) == 1
    paths = _loader(targets[0]).search_paths
    assert len(paths) == len(set(paths))
    assert any(p.endswith("boto3/data") for p in paths)  # boto3's own models stay reachable


def test_a_shared_loader_carries_no_region_or_credentials(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile other]\nregion = eu-west-1\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = x\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    real = Target(region="eu-west-1", profile="other")
    local = Target(region="us-east-1", local=True, endpoint_url="http://127.0.0.1:1")
    assert _loader(real) is _loader(local)
    assert real.session.get_credentials().access_key == "AKIDOTHER"
    assert local.session.get_credentials().access_key == "testing"
    assert (real.client("sts").meta.region_name, local.client("sts").meta.region_name) == (
        "eu-west-1",
        "us-east-1",
    )


def test_a_missing_profile_is_still_one_line_before_any_client(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with pytest.raises(TargetError, match=r"^--profile 'nope': no such AWS profile"):
        Target(region="us-east-1", profile="nope", profile_flag="nope").client("sts")
