"""`python -m proof --profile P --region R` (what `make aws-proof` runs); exit 0 when every
step passed and nothing is left, 1 otherwise."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m proof",
        description="The tool's life on an AWS account, through an AWS profile (make aws-proof).",
    )
    parser.add_argument("--profile", required=True, help="the AWS profile to run as")
    parser.add_argument("--region", required=True, help="the AWS region to run in")
    parser.add_argument("--out", type=Path, default=Path("aws-proof"), help="default: aws-proof")
    parser.add_argument(
        "--skip-conformance",
        action="store_true",
        help="do not run tests/conformance (make test's own run: its suite runs it already)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    from mirror_infra.config import known_regions

    if args.region not in known_regions():
        print(f"error: --region {args.region!r}: expected an AWS region name", file=sys.stderr)
        return 1
    import botocore.exceptions

    from proof import report
    from proof.run import Proof, Settings

    settings = Settings(args.profile, args.region, args.out, conformance=not args.skip_conformance)
    proof = Proof(settings)
    started = time.monotonic()
    try:
        proof.aws.account_id  # noqa: B018 - the profile works, before anything is recorded
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        print(f"error: --profile {args.profile}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    try:
        ok = proof.run()
    finally:
        junit, summary = report.write(proof, time.monotonic() - started)
        print(f"wrote {junit} and {summary}")
    print(f"aws-proof: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
