"""syndicate's benchmark suite: ``python -m bench [family…] [--quick]`` (``make bench``).

Every figure is a ratio against a baseline measured in the same run (the machine is shared
and noisy), repeated with the median kept, plus the absolute numbers for reference.
"""
