"""The few lines of Python that rebuild a result from the study file ("Show code")."""
from __future__ import annotations

from pathlib import Path


def snippet(call: dict, study_path: str | Path | None = None) -> str:
    """Python source that recomputes the frame whose ``attrs["call"]`` is ``call``.

    ``study_path`` names the study file; ``None`` means the embedded default.
    """
    args = [repr(a) for a in call.get("args", [])]
    args += [f"{k}={v!r}" for k, v in call.get("kwargs", {}).items()]
    opener = "open_study()" if study_path is None else f"open_study({str(study_path)!r})"
    result = "result" if call["method"] == "survival" else "df"
    part = f".{call['part']}" if call.get("part") else ""  # one frame of a several-frame result
    return (f"from analytics import open_study\n\n"
            f"study = {opener}\n"
            f"{result} = study.{call['method']}({', '.join(args)}){part}\n")
