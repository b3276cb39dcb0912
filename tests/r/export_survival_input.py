"""Write tests/r/survival_input.csv: per-subject times of the default synthetic study for the
datasets that tests/r/survival_reference.R analyses (run from the repository root:
``.venv/bin/python tests/r/export_survival_input.py``)."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from analytics import open_study  # noqa: E402
from analytics.survival import subject_times  # noqa: E402

# name -> (endpoint, population, horizon_years, subgroup filters)
DATASETS = {
    "ACR20_completers": ("ACR20", "completers", None, {}),
    "ACR50_completers": ("ACR50", "completers", None, {}),
    "EULAR_completers": ("EULAR", "completers", None, {}),
    "DAS28_REM_completers": ("DAS28_REM", "completers", None, {}),
    "DAS28_LDA_nri": ("DAS28_LDA", "nri", None, {}),
    "HAQ_MCID_nri": ("HAQ_MCID", "nri", None, {}),
    "ACR20_nri_Y1": ("ACR20", "nri", 1.0, {}),
    "ACR20_completers_M_nobio": ("ACR20", "completers", None, {"sex": "M", "prior_bdmard": 0}),
    "WITHDRAWAL_nri": ("WITHDRAWAL", "nri", None, {}),
}


def export(path: Path = HERE / "survival_input.csv") -> pd.DataFrame:
    study = open_study()
    try:
        info = study.query("SELECT subject_id, study_id, withdrawal_reason FROM subject_info")
        parts = []
        for name, (endpoint, population, horizon, filters) in DATASETS.items():
            df = subject_times(study, endpoint, population, horizon, **filters)
            df = df.merge(info, on="subject_id", how="left")
            cause = df["withdrawal_reason"].where(df["event"], "censored") \
                if endpoint == "WITHDRAWAL" else df["event"].map({True: "event",
                                                                  False: "censored"})
            parts.append(pd.DataFrame({
                "dataset": name, "subject_id": df["subject_id"], "arm": df["arm"],
                "study_id": df["study_id"], "time": df["time"],
                "event": df["event"].astype(int), "cause": cause}))
        out = pd.concat(parts, ignore_index=True)
    finally:
        study.close()
    out.to_csv(path, index=False, float_format="%.17g")
    return out


if __name__ == "__main__":
    print(export().groupby("dataset").size())
