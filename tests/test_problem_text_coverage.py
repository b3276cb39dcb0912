"""Every rule and detail the import path can word has its Chinese (analytics/problem_text.py).

The texts are read from the source, not from a run: every ``problems.add``, ``Problem``,
``MappedProblem``, ``ContractError`` and ``MappingError`` (and the modules' own helpers that pass
a rule and a detail on) in the modules below, with each f-string's placeholders filled with
sample values. A new problem text without a pattern and catalogue entries fails here. A broken
folder and broken mappings, run for real, check the texts a library adds (its own message kept).
"""
from __future__ import annotations

import ast
import datetime as dt
import itertools
import re
from pathlib import Path

import pytest

from analytics.i18n import t
from analytics.problem_text import PATTERNS, problem_text

ANALYTICS = Path(__file__).resolve().parents[1] / "analytics"
MODULES = ("importer.py", "mapping.py", "readers.py", "build.py", "study_loading.py")
# callee -> positions of (rule, detail); a module's own function with parameters ``rule`` and
# ``detail`` (such as ``report`` or ``bad``) is added from its definition
CALLS: dict[str, tuple[int | None, int]] = {
    "add": (3, 4), "Problem": (3, 4), "MappedProblem": (3, 4),
    "ContractError": (None, 0), "MappingError": (None, 0)}
# what a call passes on rather than words: the problems it forwards, or a library's own message
PASSED_ON = frozenset({"p.rule", "p.detail", "w.rule", "w.detail", "detail(value)", "str(exc)"})
DATE = dt.date(2021, 3, 5)
# a placeholder's sample value (a list: each is rendered), by its source text; a name not listed
# is a contract column
SAMPLES: dict[str, object] = {
    "_show(v)": "'31'", "_show(value)": "'S999'", "_show(sheet)": "'Visits'", "shown": "'S001'",
    "_num(lo)": "0", "_num(hi)": "28", "_num(col.low)": "0", "_num(col.high)": "28",
    "width": 3, "len(values)": 4, "first[k]": 2, "sum(ignored.values())": 3,
    "table": "visits", "table.name": "visits", "section": "values.sex", "start": "onset_date",
    "IGNORE_VISIT": "ignore", "subjects_file": "subjects.csv", "options": "visits.csv, visits.xlsx",
    "raw_dir.name or raw_dir": "export", "path.parent.name or path.parent": "export",
    "raw_dir.name": "export", "source.file": "../visits.csv", "parts[part_of[c][at[i]]].file":
    "visits.csv", "path.suffix[1:].upper()": "XPT", "ext": "txt", "exc": "File is not a zip file",
    "what": "missing key 'test'", "type(exc).__name__": "KeyError", "fmt": "YYYY/MM/DD",
    "needed": "检测项目", "pivot.test": "检测项目", "code": "HGB", "counts": "'V99': 3",
    "contract_unit": "mg/L", "contract_unit or 'its contract unit'": "mg/L",
    "label": "V99", "unit": "mmol/L", "v": "X", "arm": "C", "value": "2", "source": "男",
    "vals[i]": "F", "earlier[i]": "M",
    "', '.join(SECTIONS)": "study, files, columns", "', '.join(TABLES)": "subjects, visits",
    "', '.join(VISITS)": "baseline, week4", "', '.join(ARMS)": "MSC, MSC_IFNG",
    "', '.join(FORMATS)": "csv, xlsx", "', '.join(known)": "mg/l, mg/dl",
    "', '.join(allowed)": "F, M", "', '.join(col.choices)": "F, M",
    "', '.join(sorted(allowed))": "F, M", "', '.join(book.sheetnames)": "Sheet1, Sheet2",
    "', '.join((p.name for p in paths))": "visits.csv, visits.xlsx",
    "' and '.join(keys)": ["subject_id", "subject_id and visit"],
}
# where a name means a table (or a section), not a column
SAMPLES_IN: dict[tuple[str, str], object] = {
    ("read_raw", "name"): "visits", ("_parse", "name"): "visits", ("from_toml", "name"): "extra",
    ("from_toml", "section"): ["values", "visits, arms, units or study"]}
# wordings that go together: one set of samples each
TOGETHER: dict[str, list[dict[str, object]]] = {"_check_unique": [
    {"' and '.join(key)": "subject_id", "'is' if len(key) == 1 else 'are'": "is"},
    {"' and '.join(key)": "subject_id and visit", "'is' if len(key) == 1 else 'are'": "are"}]}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _functions(tree: ast.AST) -> dict[str, ast.FunctionDef]:
    return {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}


def _sample(expr: ast.expr, function: str, spec: str, together: dict) -> list:
    """The sample values of a placeholder (a list: each is rendered)."""
    source = ast.unparse(expr)
    if source in together:
        return [together[source]]
    if isinstance(expr, ast.IfExp) and all(isinstance(b, ast.Constant)
                                           for b in (expr.body, expr.orelse)):
        return [expr.body.value, expr.orelse.value]  # each wording
    if "%" in spec:
        return [DATE]
    sample = SAMPLES_IN.get((function, source), SAMPLES.get(source, "tjc28"))
    return sample if isinstance(sample, list) else [sample]


def _render(node: ast.JoinedStr, function: str) -> list[str]:
    """The f-string with its placeholders filled (every wording of an ``a if c else b``)."""
    return [text for together in TOGETHER.get(function, [{}])
            for text in _render_with(node, function, together)]


def _render_with(node: ast.JoinedStr, function: str, together: dict) -> list[str]:
    choices = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            choices.append([part.value])
            continue
        spec = "".join(p.value for p in part.format_spec.values) if part.format_spec else ""
        shown = []
        for value in _sample(part.value, function, spec, together):
            value = repr(value) if part.conversion == ord("r") else value
            shown.append(format(value, spec))
        choices.append(shown)
    return ["".join(parts) for parts in itertools.product(*choices)]


class _Texts(ast.NodeVisitor):
    """The rule and detail texts of one module: {text: where}, and what could not be read."""

    def __init__(self, module: str, tree: ast.Module):
        self.module, self.tree = module, tree
        self.functions = _functions(tree)
        self.texts: dict[tuple[str, str], str] = {}
        self.unread: list[str] = []
        self.scope: list[ast.FunctionDef] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.scope.append(node)
        self.generic_visit(node)
        self.scope.pop()

    def _positions(self, call: ast.Call) -> tuple[int | None, int] | None:
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(
            call.func, "id", None)
        for function in reversed(self.scope):  # a helper of the enclosing function
            helper = next((f for f in ast.walk(function) if isinstance(f, ast.FunctionDef)
                           and f.name == name and f is not function), None)
            if helper is not None:
                params = [a.arg for a in helper.args.args]
                if {"rule", "detail"} <= set(params):
                    return params.index("rule"), params.index("detail")
        if name == "add" and len(call.args) < 5:
            return None  # a set's add
        return CALLS.get(name)

    def visit_Call(self, node: ast.Call) -> None:
        positions = self._positions(node)
        if positions is not None:
            for part, index in zip(("rule", "detail"), positions):
                if index is not None and index < len(node.args):
                    arg = node.args[index]
                    if getattr(node.func, "id", None) in ("ContractError", "MappingError") and not (
                            isinstance(arg, (ast.Constant, ast.JoinedStr))):
                        continue  # a list of problems, read where they are made
                    self._collect(arg, part, node.lineno)
        self.generic_visit(node)

    def _collect(self, expr: ast.expr, part: str, line: int) -> None:
        where = f"{self.module}:{line}"
        for text in self._read(expr, self.scope[-1] if self.scope else None, where):
            if text:
                self.texts.setdefault((part, text), where)

    def _read(self, expr: ast.expr, function: ast.FunctionDef | None, where: str) -> list[str]:
        """Every text ``expr`` can be (an f-string's placeholders filled with samples)."""
        if isinstance(expr, ast.Constant):
            return [expr.value] if isinstance(expr.value, str) else []
        if isinstance(expr, ast.JoinedStr):
            return _render(expr, function.name if function else "")
        if isinstance(expr, ast.IfExp):
            return [*self._read(expr.body, function, where),
                    *self._read(expr.orelse, function, where)]
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return [a + b for a in self._read(expr.left, function, where)
                    for b in self._read(expr.right, function, where)]
        if isinstance(expr, ast.Lambda):
            return self._read(expr.body, function, where)
        if ast.unparse(expr) in PASSED_ON:
            return []
        if ast.unparse(expr) in SAMPLES:  # a list joined, e.g. the files of a table
            sample = SAMPLES[ast.unparse(expr)]
            return sample if isinstance(sample, list) else [str(sample)]
        if isinstance(expr, ast.Name) and function is not None:
            if expr.id in [a.arg for a in function.args.args]:
                return []  # a parameter: read where the call words it
            assigned = [n.value for n in ast.walk(function) if isinstance(n, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == expr.id for t in n.targets)]
            if assigned:
                return [text for value in assigned for text in self._read(value, function, where)]
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) \
                and expr.func.id in self.functions:  # a helper that words it, e.g. _range_rule
            helper = self.functions[expr.func.id]
            return [text for ret in ast.walk(helper) if isinstance(ret, ast.Return)
                    and ret.value is not None
                    for text in self._read(ret.value, helper, where)]
        self.unread.append(f"{where}: {ast.unparse(expr)}")
        return []


def problem_texts() -> tuple[dict[tuple[str, str], str], list[str]]:
    """Every (part, text) the import path words, with where; and the expressions not read."""
    texts, unread = {}, []
    for module in MODULES:
        path = ANALYTICS / module
        reader = _Texts(module, ast.parse(path.read_text(encoding="utf-8")))
        reader.visit(reader.tree)
        for key, where in reader.texts.items():
            texts.setdefault(key, where)
        unread += reader.unread
    return texts, unread


TEXTS, UNREAD = problem_texts()


def test_every_problem_text_is_read_from_the_source():
    assert not UNREAD, f"texts this test cannot read (add to SAMPLES or PASSED_ON): {UNREAD}"
    # the walk finds the texts at all: a few of each module
    assert {where.split(":")[0] for where in TEXTS.values()} >= {"importer.py", "mapping.py",
                                                                 "readers.py", "build.py"}
    assert len(TEXTS) > 100


@pytest.mark.parametrize("part, text", sorted(TEXTS), ids=lambda v: v[:50])
def test_each_problem_text_has_its_chinese(part, text):
    kinds = [kind for kind, pattern in PATTERNS[part].items() if pattern.match(text)]
    assert len(kinds) == 1, f"{TEXTS[part, text]}: {text!r} matches {kinds or 'no pattern'}"
    match = PATTERNS[part][kinds[0]].match(text)
    assert t(f"problem.{part}.{kinds[0]}", "en", **match.groupdict()) == text
    assert problem_text(text, part, "en") == text
    zh = problem_text(text, part, "zh")
    assert zh != text and CJK.search(zh), (text, zh)


def _assert_in_chinese(problems) -> None:
    for problem in problems:
        for part in ("rule", "detail"):
            text = getattr(problem, part)
            zh = problem_text(text, part, "zh")
            assert zh != text and CJK.search(zh), (str(problem), zh)


def test_a_folder_of_broken_files_is_told_in_chinese(tmp_path):
    """Real problems of the reading step (the texts the library adds included)."""
    from analytics import importer

    (tmp_path / "subjects.csv").write_text("subject_id,subject_id\nS001,S002\n", encoding="utf-8")
    (tmp_path / "visits.csv").write_text("", encoding="utf-8")
    (tmp_path / "adverse_events.xlsx").write_bytes(b"not a workbook")
    (tmp_path / "medications.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "medications.parquet").write_bytes(b"")
    with pytest.raises(importer.ContractError) as info:
        importer.read_raw(tmp_path)
    assert len(info.value.problems) == 4
    _assert_in_chinese(info.value.problems)


@pytest.mark.parametrize("toml", [
    "[files\nsubjects = 'a.csv'\n", "study = [1,", "[extra]\n", "[columns]\nvisits = 3\n",
    "[pivot.visits]\ntest = 'x'\n", "[files]\nlabs = 'a.csv'\n", "[units]\ncrp = 'furlongs'\n"])
def test_a_broken_mapping_is_told_in_chinese(toml):
    from analytics.mapping import Mapping, MappingError

    with pytest.raises(MappingError) as info:
        Mapping.from_toml(toml)
    _assert_in_chinese(info.value.problems)
