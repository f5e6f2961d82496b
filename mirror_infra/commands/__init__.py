"""One module per CLI verb: each turns parsed arguments into library calls and prints."""
