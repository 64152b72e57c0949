"""Infrastructure beyond template.yaml: the local stack (``python -m infra.local``)."""
