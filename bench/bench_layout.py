"""Layout bench: what the channel-layout handling costs, as ratios against a plain stereo encode in the same run.

    .venv/bin/python bench/bench_layout.py [--episode PATH] [--duration 20] [--size 1280x720] [--repeat 2]

Three masters share the episode's picture (stream-copied) and differ only in their sound (16-bit PCM, 48 kHz, a
tone and noise per channel): a stereo one and a 5.1 one. Lines, all transcode() with the same ladder, profile and
loudness preset, without the PSNR/SSIM pass and the storyboard:

- `stereo`: the stereo master (the baseline: "stereo kept", one AAC stereo rendition);
- `5.1-downmix`: the 5.1 master made stereo by the ITU-R BS.775 pan (one AAC stereo rendition);
- `5.1+surround`: the 5.1 master with `--surround`: the stereo downmix plus the AAC-LC 5.1 rendition (its own
  loudness pass, loudnorm, QC probes, sync and meter, and every HLS variant listed twice).

Rounds rotate the order so a drifting machine load favours no line. Columns: medians of wall and CPU (children
user+sys) seconds; ratios are each line / `stereo`. Then the phase timings (probe_plan holds loudness pass 1,
encode the downmix / 5.1 encode, qc the probes and meters). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from bench_ladder import CACHE, Sample, ensure_episode, machine, measure  # noqa: E402
from figures import write_json  # noqa: E402

from pipelines.options import PlanOptions  # noqa: E402
from pipelines.storyboard import StoryboardOptions  # noqa: E402
from pipelines.tools import Tools  # noqa: E402
from pipelines.transcode import TranscodeRequest, transcode  # noqa: E402

LINES = ("stereo", "5.1-downmix", "5.1+surround")
TONES = (300, 400, 500, 60, 700, 800)  # FL FR FC LFE BL BR (stereo: the first two)


def make_master(episode: Path, layout: str, dest: Path, tools: Tools) -> Path:
    """The episode's picture (copied) with PCM sound in `layout` ("stereo" or "5.1"): a tone and noise per channel."""
    if dest.exists():
        return dest
    channels = 2 if layout == "stereo" else 6
    exprs = "|".join(f"0.1*sin(2*PI*{hz}*t)+0.05*(random({k})-0.5)" for k, hz in enumerate(TONES[:channels]))
    probe = subprocess.run([tools.ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                            str(episode)], capture_output=True, text=True, check=True)
    seconds = float(probe.stdout.strip())
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([tools.ffmpeg, "-v", "error", "-nostdin", "-y", "-i", str(episode), "-f", "lavfi", "-i",
                    f"aevalsrc=exprs='{exprs}':c={layout}:s=48000:d={seconds}", "-map", "0:v:0", "-map", "1:a",
                    "-c:v", "copy", "-c:a", "pcm_s16le", "-metadata:s:a:0", "language=eng", str(dest)], check=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", help="picture source (default: generate one into .cache/bench/)")
    parser.add_argument("--duration", type=float, default=20.0, help="generated episode length, seconds")
    parser.add_argument("--size", default="1280x720", help="generated episode size")
    parser.add_argument("--ladder", default="compact")
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--loudness", default="ebu-r128", help="the loudness preset of every line")
    parser.add_argument("--repeat", type=int, default=2, help="rounds (each runs every line)")
    parser.add_argument("--json", help="also write the figures as JSON here (- for stdout)")
    args = parser.parse_args(argv)
    tools = Tools.resolve()
    episode = ensure_episode(args)
    info = machine(tools)
    masters = {"stereo": make_master(episode, "stereo", CACHE / f"layout-stereo-{episode.stem}.mov", tools),
               "5.1": make_master(episode, "5.1", CACHE / f"layout-51-{episode.stem}.mov", tools)}
    setups = {"stereo": (masters["stereo"], False), "5.1-downmix": (masters["5.1"], False),
              "5.1+surround": (masters["5.1"], True)}
    work = CACHE / "layout-work"
    samples: dict[str, list[Sample]] = {line: [] for line in LINES}
    timings: dict[str, list[dict[str, float]]] = {line: [] for line in LINES}
    for number in range(args.repeat):
        shift = number % len(LINES)
        for line in LINES[shift:] + LINES[:shift]:
            master, surround = setups[line]
            shutil.rmtree(work, ignore_errors=True)
            request = TranscodeRequest(source=master, output=work / "out", ladder=args.ladder, measure_quality=False,
                                       options=PlanOptions(profile=args.profile, loudness=args.loudness,
                                                           surround=surround), scratch_root=work,
                                       thumbnails=StoryboardOptions(enabled=False))
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
    ratio = {line: {key: round(med[line][key] / med["stereo"][key], 3) for key in ("wall", "cpu")}
             for line in LINES}
    print(f"episode: {episode}  ladder: {args.ladder}  profile: {args.profile}  loudness: {args.loudness}  "
          f"rounds: {args.repeat}  cores: {info['usable_cores']}  ffmpeg {info['ffmpeg']}")
    print(f"{'line':<14}{'wall s':>9}{'cpu s':>9}{'wall/st':>9}{'cpu/st':>9}   phases (median s)")
    for line in LINES:
        phase_text = "  ".join(f"{k} {v:.2f}" for k, v in phases[line].items())
        print(f"{line:<14}{med[line]['wall']:>9.2f}{med[line]['cpu']:>9.2f}{ratio[line]['wall']:>9.3f}"
              f"{ratio[line]['cpu']:>9.3f}   {phase_text}")
    write_json({"machine": info, "median": med, "phases": phases, "ratio": ratio}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
