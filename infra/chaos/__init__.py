"""``make chaos``: a bounded fault run anyone can repeat (docs/reliability.md).

Several client processes run a mixed workload against the local stack on a persistent
PostgreSQL while the stack is SIGKILLed at random points and restarted; every unacknowledged
request is retried (with its same ``Idempotency-Key`` where the route takes one), and at the end
the run checks that nothing acknowledged or derived was lost and that ``verify`` finds no drift.
"""
