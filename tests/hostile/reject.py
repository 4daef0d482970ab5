"""Child process of the hostile tests: hand one corpus file to vodfleet, write what happened as JSON.

    python reject.py master PATH OUT_DIR RESULT_JSON         transcode(PATH → OUT_DIR) (rejects at probe)
    python reject.py subtitle PATH LANGUAGE RESULT_JSON      load_sidecar(PATH, LANGUAGE)

Peak RSS: Linux carries a process's RSS high-water mark across fork and exec, so a child of pytest
(hundreds of MB) would report pytest's peak. This launcher is tiny when it forks the worker, and
``os.wait4`` on the worker gives the peak of the worker and of every ffprobe/ffmpeg it waited for;
the launcher adds ``rss_mb`` to the result.
"""

import json
import os
import sys
from pathlib import Path


def work(kind: str, path: str, extra: str, result: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from pipelines.errors import PipelineError
    from pipelines.subtitles import load_sidecar
    from pipelines.transcode import TranscodeRequest, transcode

    outcome: dict[str, object]
    try:
        if kind == "master":
            done = transcode(TranscodeRequest(source=Path(path), output=Path(extra), measure_quality=False))
            outcome = {"code": None, "output": str(done.output)}
        else:
            doc = load_sidecar(Path(path), extra, duration=60.0)
            outcome = {"code": None, "cues": len(doc.cues)}
    except PipelineError as exc:
        outcome = {**exc.to_dict(), "class": type(exc).__name__, "text": str(exc)}
    Path(result).write_text(json.dumps(outcome), encoding="utf-8")


def main(kind: str, path: str, extra: str, result: str) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            work(kind, path, extra, result)
        finally:
            os._exit(0)
    _, status, usage = os.wait4(pid, 0)
    if not Path(result).exists():
        return os.waitstatus_to_exitcode(status) or 1
    outcome = json.loads(Path(result).read_text(encoding="utf-8"))
    outcome["rss_mb"] = usage.ru_maxrss / 1024
    Path(result).write_text(json.dumps(outcome), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
