"""Corrections to moto's service APIs (not CloudFormation: that is cfn/) that this environment
relies on, one module per service."""
