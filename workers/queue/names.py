"""The names on the broker: queues, task names, the priority range and the control command (a leaf: it imports
nothing, so the app, the senders, the tasks and the tools that read the broker can all use it).

    vodfleet.jobs                 unpinned jobs (every worker consumes it)
    vodfleet.jobs.<fingerprint>   jobs pinned to one encoder (`workers.queue.routing`)
    vodfleet.dead                 jobs whose attempts ran out (nobody consumes it by default)
"""

JOBS_QUEUE = "vodfleet.jobs"
DEAD_QUEUE = "vodfleet.dead"
QUEUE_PREFIX = JOBS_QUEUE + "."  # + a fingerprint's short form: one encoder's queue
RUN_JOB = "vodfleet.run_job"
RUN_PART = "vodfleet.run_part"  # one chunk (or the audio) of a split-and-stitch job
MAX_PRIORITY = 9
ENCODER_COMMAND = "vodfleet_encoder"  # the Celery remote-control command a worker answers with its fingerprint
