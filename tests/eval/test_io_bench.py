"""The I/O benchmark runs end to end on real footage and writes its ratio tables."""

from __future__ import annotations

from pathlib import Path

from reelproof.eval.io_bench import render_markdown, run_io_benchmark


def test_io_benchmark_small_run(carphone_mp4: Path, tmp_path: Path) -> None:
    out = tmp_path / "io.md"
    report = run_io_benchmark(
        carphone_mp4.parent, out, repeats=1, encode_frames=8, clips=(carphone_mp4.name,)
    )
    (decode,) = report.decode
    (encode,) = report.encode
    assert decode.frames == 120 and encode.frames == 8
    assert decode.bare_fps > 0 and decode.reader_fps > 0 and decode.reader_cpu_ms > 0
    assert decode.ratio == decode.reader_fps / decode.bare_fps
    text = out.read_text()
    assert text == render_markdown(report)
    assert f"**{decode.ratio:.2f}**" in text and f"**{encode.ratio:.2f}**" in text
