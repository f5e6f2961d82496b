"""The local AWS's CloudFormation: a stack engine in place of moto's (see `engine`)."""
