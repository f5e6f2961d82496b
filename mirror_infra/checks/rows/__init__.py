"""One module per row of the verification checklist: its ID, its DESCRIPTION and the function
that checks it (registered in order in `checks/verify.py`)."""
