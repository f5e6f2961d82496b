"""taskcat.yml: what it tests, where, and with which parameters."""

from __future__ import annotations

import pytest

from mirror_infra.config import load as load_params
from mirror_infra.errors import ConfigError
from mirror_infra.multiregion import project as taskcat_project
from tests.conftest import REPO


@pytest.fixture(scope="module")
def tc() -> taskcat_project.TaskcatProject:
    return taskcat_project.load(REPO / "taskcat.yml")


def test_staging_in_the_params_test_regions(tc):
    (test,) = tc.tests_of("staging")
    assert len(test.regions) >= 3
    assert list(test.regions) == load_params("staging", REPO).test_regions


def test_artifacts_parameters_point_where_taskcat_uploads(tc):
    (test,) = tc.tests_of("staging")
    assert test.parameters["ArtifactsBucket"] == "$[taskcat_autobucket]"
    # taskcat replaces $[taskcat_project_name] with project.name
    prefix = test.parameters["ArtifactsPrefix"].replace("$[taskcat_project_name]", tc.name)
    assert prefix == tc.artifacts_prefix("staging") == f"{tc.name}/throwaway/staging/"


def test_a_plain_taskcat_run_at_the_project_root_finds_no_template(tc):
    """SPEC §2: test environments never use a real one's names. build/<env>/ holds the real
    environment's templates, so taskcat.yml names a template only the project that
    `mirror-infra taskcat` stages holds (a throwaway environment's): a plain `taskcat test run`
    at the root stops at the missing file instead of deploying real names."""
    (test,) = tc.tests_of("staging")
    assert test.template == "throwaway/staging/root.json"
    assert not (REPO / test.template).exists()
    # and a project file naming what `build` writes is refused (the bad-file table below)


def test_offline_and_region_settings(tc):
    assert tc.package_lambda is False  # packaging would need Docker
    assert tc.regional_buckets is True  # nested TemplateURLs name the stack's own region


def test_every_root_parameter_without_default_is_given(tc, built):
    (test,) = tc.tests_of("staging")
    declared = built["staging"]["Root"]["Parameters"]
    missing = [k for k, p in declared.items() if "Default" not in p and k not in test.parameters]
    assert missing == []
    assert set(test.parameters) <= set(declared)


def test_production_is_not_a_taskcat_test(tc):
    with pytest.raises(ConfigError, match="no test of 'production'.*README"):
        tc.tests_of("production")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("project: {name: Bad_Name}", "project.name"),
        ("project: {name: p, regions: [us-east-1]}\ntests: {t: {template: x.json}}", "template"),
        (
            "project: {name: p, regions: [us-east-1]}\n"
            "tests: {t: {template: build/staging/root.json}}",
            "expected throwaway/<env>/root.json",
        ),
        ("project: {name: p}\ntests: {t: {template: throwaway/staging/root.json}}", "no regions"),
        ("project: [", "not valid YAML"),
    ],
)
def test_bad_project_files(tmp_path, text, message):
    path = tmp_path / "taskcat.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        taskcat_project.load(path)


def test_missing_project_file(tmp_path):
    with pytest.raises(ConfigError, match="no taskcat project"):
        taskcat_project.load(tmp_path / "taskcat.yml")


def test_requirements_pin_every_package():
    lines = (REPO / "requirements-taskcat.txt").read_text().splitlines()
    pins = [line for line in lines if line and not line.startswith("#")]
    assert all("==" in line for line in pins), pins
    names = {line.split("==")[0].lower() for line in pins}
    assert {"taskcat", "jsonschema", "urllib3", "boto3", "botocore"} <= names
    assert len(names) == len(pins)
