"""vodfleet's media domain: probe, plan, encode, package, subtitles and QC.

Knows ffmpeg; knows nothing of Celery, S3, Docker or Prometheus (those live in `workers`).
"""

__version__ = "0.1.0"
