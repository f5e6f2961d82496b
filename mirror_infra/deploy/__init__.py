"""Deploying the environment: bootstrap, package, plan, apply, destroy, the nonce."""
