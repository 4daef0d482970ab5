"""Loudness bench: the same encode with loudness normalisation (two-pass loudnorm, `ebu-r128`) and without
(`off`), in one run; prints the cost as a ratio.

    .venv/bin/python bench/bench_loudness.py [--episode PATH] [--duration 20] [--size 1280x720] [--repeat 2]

Lines: `off` is transcode() with `--loudness off` (the source and every published rendition are still
measured: report.json carries the figures either way) and `ebu-r128` the default: pass 1 over the source's
audio, loudnorm + resample in the encode, the QC check. Both run the same ladder and profile without the
PSNR/SSIM pass, alternated round by round (off first in odd rounds) so a drifting machine load favours neither.
Columns: medians of wall and CPU (children user+sys) seconds; the ratio is ebu-r128 / off. Then the phase
timings (probe_plan holds pass 1, encode the loudnorm, qc the meter). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from bench_ladder import CACHE, Sample, ensure_episode, machine, measure  # noqa: E402
from figures import write_json  # noqa: E402

from pipelines.options import PlanOptions  # noqa: E402
from pipelines.tools import Tools  # noqa: E402
from pipelines.transcode import TranscodeRequest, transcode  # noqa: E402

LINES = ("off", "ebu-r128")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", help="source to encode (default: generate one into .cache/bench/)")
    parser.add_argument("--duration", type=float, default=20.0, help="generated episode length, seconds")
    parser.add_argument("--size", default="1280x720", help="generated episode size")
    parser.add_argument("--ladder", default="compact")
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--repeat", type=int, default=2, help="rounds (each runs both lines)")
    parser.add_argument("--json", help="also write the figures as JSON here (- for stdout)")
    args = parser.parse_args(argv)
    tools = Tools.resolve()
    episode = ensure_episode(args)
    info = machine(tools)
    work = CACHE / "loudness-work"
    samples: dict[str, list[Sample]] = {line: [] for line in LINES}
    timings: dict[str, list[dict[str, float]]] = {line: [] for line in LINES}
    for number in range(args.repeat):
        for line in LINES if number % 2 == 0 else tuple(reversed(LINES)):
            shutil.rmtree(work, ignore_errors=True)
            request = TranscodeRequest(source=episode, output=work / "out", ladder=args.ladder, measure_quality=False,
                                       options=PlanOptions(profile=args.profile, loudness=line),
                                       scratch_root=work)
            work.mkdir(parents=True)
            holder: dict[str, dict[str, float]] = {}

            def run(request: TranscodeRequest = request, holder: dict[str, dict[str, float]] = holder) -> None:
                holder["timings"] = transcode(request, tools=tools).timings

            samples[line].append(measure(run))
            timings[line].append(holder["timings"])
    shutil.rmtree(work, ignore_errors=True)
    med = {line: {"wall": statistics.median(s.wall for s in runs), "cpu": statistics.median(s.cpu for s in runs)}
           for line, runs in samples.items()}
    phases = {line: {k: statistics.median(t.get(k, 0.0) for t in runs) for k in runs[0]}
              for line, runs in timings.items()}
    ratio = {key: round(med["ebu-r128"][key] / med["off"][key], 3) for key in ("wall", "cpu")}
    print(f"episode: {episode}  ladder: {args.ladder}  profile: {args.profile}  rounds: {args.repeat}  "
          f"cores: {info['usable_cores']}  ffmpeg {info['ffmpeg']}")
    print(f"{'line':<10}{'wall s':>9}{'cpu s':>9}   phases (median s)")
    for line in LINES:
        phase_text = "  ".join(f"{k} {v:.2f}" for k, v in phases[line].items())
        print(f"{line:<10}{med[line]['wall']:>9.2f}{med[line]['cpu']:>9.2f}   {phase_text}")
    print(f"ratio ebu-r128/off: wall {ratio['wall']:.3f}  cpu {ratio['cpu']:.3f}")
    write_json({"machine": info, "median": med, "phases": phases, "ratio": ratio}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
