"""The local stack: template.yaml's API, functions, tables, streams and schedules without Docker."""
