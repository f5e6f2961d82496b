"""Corrections to moto's service APIs (not CloudFormation) that this environment relies on."""
