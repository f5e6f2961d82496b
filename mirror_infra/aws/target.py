"""Which AWS the tool talks to — a real account (profile/region) or the local AWS — and the
clients for it. Never falls back from one to the other: the caller says which, and the output
names it."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mirror_infra.aws.errors import error_code
from mirror_infra.errors import TargetError

LOCAL_URL_VAR = "MIRROR_INFRA_LOCAL_URL"
DEFAULT_LOCAL_PORT = 4590
DEFAULT_LOCAL_URL = f"http://127.0.0.1:{DEFAULT_LOCAL_PORT}"
# the endpoint probe (the account's STS call): attempts x read timeout bounds a silent endpoint
PROBE_ATTEMPTS = 2
PROBE_READ_SECONDS = 12.0
# what the local AWS accepts; never valid on AWS
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def local_url() -> str:
    """The local AWS's endpoint ($MIRROR_INFRA_LOCAL_URL), or a TargetError naming the value."""
    from urllib.parse import urlparse

    url = os.environ.get(LOCAL_URL_VAR, DEFAULT_LOCAL_URL).rstrip("/")
    try:
        parsed = urlparse(url)
        port = parsed.port
    except ValueError:
        parsed, port = None, None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise TargetError(f"{LOCAL_URL_VAR}={url!r}: expected a URL like {DEFAULT_LOCAL_URL}")
    del port
    return url


# botocore's JSON models by data path: read once per process, whatever the number of sessions
_loaders: dict[str | None, Any] = {}


def boto3_session(session_vars: dict, **kwargs: Any) -> Any:
    """A boto3 session whose botocore data loader is the process's one for its data path.

    A new botocore session parses botocore's endpoints and each service's model again (about
    0.05 s a client), so a process that makes several sessions (one per region or environment,
    one per command when the CLI runs in-process) reads them once. The loader holds only
    botocore's own data, never credentials or settings. boto3 adds its data folder to the
    loader's search paths on every session; that list is kept free of repeats."""
    import boto3
    import botocore.loaders
    import botocore.session

    core = botocore.session.Session(session_vars=session_vars)
    if kwargs.get("profile_name"):
        # as boto3 would: the profile is read (ProfileNotFound for a missing one) before the
        # loader is looked up, with the data path the profile may set
        core.set_config_variable("profile", kwargs["profile_name"])
    data_path = core.get_config_variable("data_path")
    loader = _loaders.get(data_path)
    if loader is None:
        loader = _loaders.setdefault(data_path, botocore.loaders.create_loader(data_path))
    core.register_component("data_loader", loader)
    session = boto3.Session(botocore_session=core, **kwargs)
    loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
    return session


@dataclass
class Target:
    """An AWS region of a real account, or of the local AWS."""

    region: str
    local: bool = False
    profile: str | None = None
    endpoint_url: str | None = None
    # the --profile the command line gave (`profile` also takes AWS_PROFILE's once resolved)
    profile_flag: str | None = None
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def resolve(cls, region: str, local: bool, profile: str | None) -> Target:
        """The target the flags name; a one-line TargetError when it cannot be used."""
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        if local:
            if profile:
                raise TargetError(
                    f"--local and --profile {profile!r} name two different targets; choose one"
                )
            return cls(region=region, local=True, endpoint_url=local_url())
        return cls(
            region=region,
            profile=profile,
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
            profile_flag=profile,
        )

    @cached_property
    def session(self):
        import botocore.exceptions

        try:
            if self.local:
                # the local AWS takes fixed credentials; a profile exported for real AWS (even
                # one this machine does not have) must neither apply nor get in the way
                return boto3_session(
                    {"profile": (None, None, None, None)},
                    region_name=self.region,
                    **LOCAL_CREDENTIALS,
                )
            session = boto3_session({}, region_name=self.region, profile_name=self.profile)
            self.profile = self.profile or (
                session.profile_name if os.environ.get("AWS_PROFILE") else None
            )
            return session
        except botocore.exceptions.ProfileNotFound:
            named = (
                f"--profile {self.profile!r}"
                if self.profile
                else f"AWS_PROFILE {os.environ.get('AWS_PROFILE')!r}"
            )
            raise TargetError(
                f"{named}: no such AWS profile; see 'aws configure list-profiles'"
            ) from None

    def client(self, service: str):
        """A client for `service` with botocore's standard retry mode (backs off on throttling)."""
        if service not in self._clients:
            from botocore.config import Config

            # the first call of every command (STS, for the account) is also the probe of the
            # endpoint: it gives up within about PROBE_SECONDS on one that never answers
            probe = service == "sts"
            config = Config(
                retries={"mode": "standard", "max_attempts": PROBE_ATTEMPTS if probe else 8},
                user_agent_extra="mirror-infra",
                connect_timeout=5 if self.local else 20,
                read_timeout=PROBE_READ_SECONDS if probe else 60,
            )
            if not self.local and self.session.get_credentials() is None:
                where = f"profile {self.profile!r}" if self.profile else "the environment"
                raise TargetError(
                    f"no AWS credentials found in {where}; run 'aws configure' or "
                    "'aws sso login', pass --profile, or use --local for the local AWS"
                )
            kwargs = {"endpoint_url": self.endpoint_url} if self.endpoint_url else {}
            client = self.session.client(service, config=config, **kwargs)
            self._clients[service] = client
        return self._clients[service]

    @cached_property
    def account_id(self) -> str:
        """The account behind the credentials (one STS call); fails clearly when unreachable."""
        import botocore.exceptions

        try:
            return self.client("sts").get_caller_identity()["Account"]
        except (botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError):
            raise TargetError(
                f"{self.where()} did not answer within {PROBE_ATTEMPTS * PROBE_READ_SECONDS:g}s; "
                "check the endpoint (AWS_ENDPOINT_URL, MIRROR_INFRA_LOCAL_URL) and the network"
            ) from None
        except botocore.exceptions.EndpointConnectionError:
            if self.local:
                raise TargetError(
                    f"the local AWS is not running at {self.endpoint_url}; "
                    "start it with 'mirror-infra local start'"
                ) from None
            raise TargetError(
                f"cannot reach AWS STS in {self.region}; check the network or the region"
            ) from None
        except botocore.exceptions.ClientError as exc:
            raise TargetError(
                f"AWS rejected the credentials ({error_code(exc)}); "
                "refresh them ('aws sso login') or pass another --profile"
            ) from None
        except botocore.exceptions.NoCredentialsError:
            raise TargetError(
                "no AWS credentials found; run 'aws configure' or 'aws sso login', pass "
                "--profile, or use --local for the local AWS"
            ) from None

    def where(self) -> str:
        """The endpoint and region, known without any call."""
        if self.local:
            return f"local AWS {self.endpoint_url} ({self.region})"
        profile = f", profile {self.profile}" if self.profile else ""
        endpoint = f", endpoint {self.endpoint_url}" if self.endpoint_url else ""
        return f"AWS {self.region}{profile}{endpoint}"

    def aws_command(self, *words: str) -> str:
        """An `aws` CLI command aimed at this very target (its region, the profile it was given,
        the local AWS's endpoint), so advice that names it acts where the tool looked; quoted
        for a POSIX shell."""
        parts = ["aws", *words, "--region", self.region]
        if self.profile:
            parts += ["--profile", self.profile]
        if self.local:
            parts += ["--endpoint-url", str(self.endpoint_url)]
        return shlex.join(parts)

    def tool_command(self, *words: str, home_region: str | None = None) -> str:
        """A `mirror-infra` command aimed at this very target: `--region` unless it is
        `home_region` (the environment's own), the `--profile` the command line gave (one from
        AWS_PROFILE is still in the user's environment), `--local` under the local AWS (whose
        URL, like the port, comes from the same environment); quoted for a POSIX shell."""
        parts = ["mirror-infra", *words]
        if self.region != home_region:
            parts += ["--region", self.region]
        if self.profile_flag:
            parts += ["--profile", self.profile_flag]
        if self.local:
            parts.append("--local")
        return shlex.join(parts)

    def describe(self) -> str:
        """How the output names this target (the account needs one STS call)."""
        if self.local:
            return f"local AWS {self.endpoint_url} (account {self.account_id}, {self.region})"
        profile = f", profile {self.profile}" if self.profile else ""
        endpoint = f", endpoint {self.endpoint_url}" if self.endpoint_url else ""
        return f"AWS account {self.account_id} ({self.region}{profile}{endpoint})"
