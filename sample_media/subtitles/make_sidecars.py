"""Write the sample sidecars for bigbuckbunny.mp4, byte for byte, from the UTF-8 text below.

Legacy charsets (CP949, Big5, CP1252) cannot be typed into an editor reliably, so they are made
here. ``expected.json`` holds the cues as ``load_sidecar`` must return them (WebVTT payloads).
Run: ``python sample_media/subtitles/make_sidecars.py`` (deterministic; no third-party imports).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMES = ((0.4, 1.9), (2.1, 3.6), (3.8, 5.1))
RLM = "\u200f"

# Expected cue payloads per language: (first line, second line), italic line, plain line.
LINES = {
    "ko": (("커다란 토끼가 깨어납니다", "조용한 초록 풀밭에서."), "아침 햇살이 따뜻해요.",
           "토끼가 기지개를 켜고 꽃 냄새를 맡아요."),
    "zh-Hant": (("一隻大兔子醒來了", "在安靜的綠色草地上。"), "早晨的陽光很溫暖。",
                "他伸了個懶腰，聞聞花香。"),
    "ar": ((RLM + "أرنب كبير يستيقظ", "في مرج أخضر هادئ."), "شمس الصباح دافئة.",
           "يتمطى ويشم رائحة الأزهار."),
    "es": (("Un conejo enorme despierta", "en un prado tranquilo."), "¡Qué cálido está el sol de la mañana!",
           "¿Huele las flores? Sí, y sonríe."),
    "en": (("A big rabbit wakes up", "in a quiet green meadow."), "The morning sun feels warm.",
           "Flowers & butterflies everywhere."),
}


def srt(language: str) -> str:
    (first, second), italic, plain = LINES[language]
    return ("1\r\n00:00:00,400 --> 00:00:01,900\r\n" f"{first}\r\n{second}\r\n\r\n"
            "2\r\n00:00:02,100 --> 00:00:03,600\r\n" f"<i>{italic}</i>\r\n\r\n"
            "3\r\n00:00:03,800 --> 00:00:05,100\r\n" f'<font color="#ffff00">{plain}</font>\r\n')


def vtt(language: str) -> str:
    (first, second), italic, plain = LINES[language]
    return ("WEBVTT\n\nNOTE original narration for the vodfleet samples (CC0)\n\n"
            f"intro\n00:00:00.400 --> 00:00:01.900 align:center\n{first}\n{second}\n\n"
            f"00:00:02.100 --> 00:00:03.600\n<i>{italic}</i>\n\n"
            f"00:00:03.800 --> 00:00:05.100\n<c.narrator>{plain}</c>\n")


def ass(language: str) -> str:
    (first, second), italic, plain = LINES[language]
    return (
        "[Script Info]\r\nTitle: Big Buck Bunny sample\r\nScriptType: v4.00+\r\nPlayResX: 1280\r\nPlayResY: 720\r\n\r\n"
        "[V4+ Styles]\r\nFormat: Name, Fontname, Fontsize, PrimaryColour, Bold, Italic, Alignment\r\n"
        "Style: Default,Arial,48,&H00FFFFFF,0,0,2\r\n\r\n"
        "[Events]\r\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\r\n"
        "Comment: 0,0:00:00.00,0:00:05.20,Default,,0,0,0,,timing checked against the clip\r\n"
        f"Dialogue: 0,0:00:00.40,0:00:01.90,Default,Narrador,0,0,0,,{{\\fad(150,150)}}{first}\\N{second}\r\n"
        f"Dialogue: 0,0:00:02.10,0:00:03.60,Default,Narrador,0,0,0,,{{\\i1}}{italic}{{\\i0}}\r\n"
        f"Dialogue: 0,0:00:03.80,0:00:05.10,Default,Narrador,0,0,0,,{{\\an8}}{plain}\r\n"
        "Dialogue: 1,0:00:03.80,0:00:05.10,Default,,0,0,0,,{\\p1}m 0 0 l 100 0 100 100 0 100{\\p0}\r\n"
    )


def ttml(language: str) -> str:
    (first, second), italic, plain = LINES[language]
    escaped = plain.replace("&", "&amp;")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:tts="http://www.w3.org/ns/ttml#styling"
    xmlns:ttp="http://www.w3.org/ns/ttml#parameter" ttp:frameRate="25" xml:lang="{language}">
  <head>
    <styling>
      <style xml:id="narration" tts:color="white"/>
    </styling>
  </head>
  <body>
    <div>
      <p begin="00:00:00:10" end="00:00:01.900" style="narration">{first}<br/>
        {second}</p>
      <p begin="2.1s" end="3600ms"><span tts:fontStyle="italic">{italic}</span></p>
    </div>
    <div begin="3.8s">
      <p begin="0s" dur="1.3s">{escaped}</p>
    </div>
  </body>
</tt>
"""


SIDECARS = (  # file name, language, writer, codec, charset load_sidecar must report
    ("bigbuckbunny.ko.srt", "ko", srt, "cp949", "cp949"),
    ("bigbuckbunny.zh-Hant.srt", "zh-Hant", srt, "big5", "cp950"),
    ("bigbuckbunny.ar.vtt", "ar", vtt, "utf-8", "utf-8"),
    ("bigbuckbunny.es.ass", "es", ass, "cp1252", "cp1252"),
    ("bigbuckbunny.en.ttml", "en", ttml, "utf-8-sig", "utf-8"),
)


def expected_cues(language: str) -> list[dict[str, object]]:
    (first, second), italic, plain = LINES[language]
    texts = (f"{first}\n{second}", f"<i>{italic}</i>", plain.replace("&", "&amp;"))
    return [{"start": start, "end": end, "text": text} for (start, end), text in zip(TIMES, texts, strict=True)]


def main() -> None:
    expected = {}
    for name, language, writer, codec, charset in SIDECARS:
        (HERE / name).write_bytes(writer(language).encode(codec))
        expected[name] = {"language": language, "charset": charset, "cues": expected_cues(language)}
    (HERE / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
