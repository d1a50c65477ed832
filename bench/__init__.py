"""The benchmark: the real server, on data it builds itself, against the least work any server
must do for the same answer. Run it as ``scripts/bench`` (or ``python -m bench``)."""
