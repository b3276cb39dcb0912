"""The same study gives the same numbers to the last bit, run after run. DuckDB adds a column of
doubles in parallel, in whatever order its threads finish, so on a cohort large enough to be
split (here 5,000 subjects; the 100x benchmark cohort too) a plain ``sum`` of fractional
person-years varied in its last bits between runs, and with it the AE rates and their
intervals. Sums of doubles are ordered (``sum(x ORDER BY subject_id)``)."""
from __future__ import annotations

import hashlib
import subprocess
import sys

from analytics import baseline, disposition, open_study, safety
from analytics.build import build_study

SUBJECTS = 5000


def _fingerprint(frames) -> str:
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(frame.select_dtypes("number").to_numpy().tobytes())
    return digest.hexdigest()


def test_safety_rates_and_person_years_are_the_same_to_the_last_bit_run_after_run(tmp_path):
    raw, study_file = tmp_path / "raw", tmp_path / "large.duckdb"
    subprocess.run([sys.executable, "-m", "analytics", "synth", "--seed", "2", "--subjects",
                    str(SUBJECTS), "--out", str(raw)], check=True, capture_output=True)
    build_study(raw, study_file)
    seen = set()
    for _ in range(6):
        with open_study(study_file) as study:
            seen.add(_fingerprint([safety.ae_rates_by_year(study), safety.ae_summary(study),
                                   safety.ae_rates(study, by="soc", population="nri"),
                                   disposition.disposition(study), baseline.baseline(study)]))
    assert len(seen) == 1
