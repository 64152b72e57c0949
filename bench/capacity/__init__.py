"""Capacity on paper and in simulation (docs/capacity.md): what each user action costs, measured
through the real handlers (``measure``), and a model of the deployed system under a workload mix
(``model``) that names the first limit hit at each size and prints what it costs."""
