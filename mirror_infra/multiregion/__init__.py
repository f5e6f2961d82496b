"""Multi-region testing: the taskcat project run on AWS or on the local AWS, and upgrade tests
that deploy a previous version in every region and then plan and apply the current one."""
