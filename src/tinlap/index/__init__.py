"""The incremental index: a stream of new documents checked against everything seen before."""
