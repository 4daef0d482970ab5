"""Exit codes of the `vodfleet` command, and THE table from an error's code to its exit code.

    0 published · 2 usage (a refused option) · 3 input rejected (the master, a sidecar or a key named in the job
    is bad or not there) · 4 failed (ffmpeg, a time limit, attempts or storage retries used up, a vodfleet bug) ·
    5 QC failed · 6 configuration or host (ladder, tools, credentials, store, broker, disk) · 130 interrupted

One table for every caller: `vodfleet transcode` and `vodfleet submit` exit with `exit_code(error)`, and a fleet
job's stored failure carries `exit_for(code)`, which `submit --wait` exits with, so the same error exits alike
wherever it happens. Its rows are docs/errors.md's, in the same order (tests/unit/test_error_codes.py).
"""

from __future__ import annotations

from pipelines.errors import CodedError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INPUT_REJECTED = 3
EXIT_ENCODE_FAILED = 4
EXIT_QC_FAILED = 5
EXIT_CONFIG = 6
EXIT_INTERRUPTED = 130

_IN, _FAIL, _QC, _CONF, _USAGE = EXIT_INPUT_REJECTED, EXIT_ENCODE_FAILED, EXIT_QC_FAILED, EXIT_CONFIG, EXIT_USAGE

# error code → exit code, in docs/errors.md's order (the error codes of `pipelines`, then of `workers`)
CODES: dict[str, int] = {
    "source_not_local": _IN, "source_missing": _IN, "source_empty": _IN, "source_format_refused": _IN,
    "source_not_media": _IN, "source_truncated": _IN, "source_undecodable": _IN, "source_no_video": _IN,
    "source_bad_duration": _IN, "source_too_long": _IN, "source_too_large": _IN, "source_too_many_streams": _IN,
    "source_probe_timeout": _IN, "output_too_large": _IN,
    "subtitle_unreadable": _IN, "subtitle_too_large": _IN, "subtitle_too_many_cues": _IN,
    "subtitle_too_complex": _IN, "subtitle_line_too_long": _IN, "subtitle_charset_unknown": _IN,
    "subtitle_unparseable": _IN, "caption_scc_invalid": _IN, "subtitle_unsafe_xml": _IN,
    "subtitle_timestamp_invalid": _IN, "subtitle_out_of_range": _IN, "language_invalid": _IN, "audio_silent": _IN,
    "source_rejected": _IN, "subtitle_rejected": _IN, "input_rejected": _IN,
    "config_invalid": _CONF, "tool_missing": _CONF,
    "ffmpeg_failed": _FAIL, "ffmpeg_timeout": _FAIL,
    "scratch_unavailable": _CONF,
    "cancelled": EXIT_INTERRUPTED,
    "qc_failed": _QC,
    "qc_probe_unreadable": _FAIL, "qc_manifest_unreadable": _FAIL, "vmaf_log_invalid": _FAIL,
    "cmaf_missing": _FAIL, "cmaf_malformed": _FAIL, "cmaf_unsupported": _FAIL,
    "unclassified": _FAIL, "pipeline_error": _FAIL,
    # workers
    "worker_error": _CONF, "settings_invalid": _CONF, "key_invalid": _IN,
    "storage_error": _FAIL, "storage_unavailable": _FAIL,  # storage still failing after its retries
    "object_not_found": _IN,  # the master or sidecar the job names is not in the storage
    "storage_access_denied": _CONF, "storage_precondition_failed": _FAIL, "storage_checksum_mismatch": _FAIL,
    "storage_rejected": _CONF, "output_invalid": _FAIL,
    "option_invalid": _USAGE, "webhook_target_refused": _USAGE, "webhook_target_unresolvable": _USAGE,
    "job_error": _CONF, "job_not_found": _CONF, "illegal_transition": _FAIL,
    "lease_lost": _FAIL,
    "store_unavailable": _CONF, "broker_unavailable": _CONF,
    "attempts_exhausted": _FAIL, "chunk_plan_mismatch": _CONF, "time_limit": _FAIL, "internal_error": _FAIL,
    "player_libraries_missing": _CONF, "preview_not_an_output": _CONF,
}


def exit_for(code: str) -> int:
    """The exit code of an error code (pure); a code outside the table exits as a failure (4)."""
    return CODES.get(code, EXIT_ENCODE_FAILED)


def exit_code(error: BaseException) -> int:
    """The exit code of an error (pure): by its code in `CODES`; Ctrl-C/SIGTERM 130; anything else 4."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, CodedError):
        return exit_for(error.code)
    return EXIT_ENCODE_FAILED
