"""mirror-infra: builds, deploys and watches the Phase Mirror AWS environment."""

__version__ = "0.1.0"
