"""The caption under every figure is wrapped by charts.theme.wrap_lines: no line wider than asked
(a CJK character counts two), nothing lost, and a line breaks only where the next word would not
fit."""
import random

import pytest

from analytics.charts.theme import wrap_lines


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _texts():
    rng = random.Random(13)
    alphabet = "abcdefghij,.;()–±" + "中文患者随机对照比较疗效" + "   "
    yield "Population: completers · N = 40 / 41 · Method: Clopper–Pearson 95 % CI."
    yield "人群：完成者 · N = 40 / 41 · 方法：Clopper–Pearson 精确 95% 置信区间。" * 3
    for _ in range(300):
        yield "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))


@pytest.mark.parametrize("width", [3, 10, 40, 110])
def test_lines_fit_keep_every_character_and_break_only_when_needed(width):
    for text in _texts():
        lines = wrap_lines(text, width).split("<br>") if text.split() else []
        assert all(0 < _width(line) <= width for line in lines), (text, width)
        # nothing lost or reordered: only the white space between words changes
        assert "".join("".join(lines).split()) == "".join(text.split())
        for line, following in zip(lines, lines[1:]):
            # greedy: neither the next line's first word nor (a long word cut at the width)
            # its first character would have fitted on this line
            first_word = following.split(" ")[0]
            assert (_width(line) + 1 + _width(first_word) > width
                    or _width(line) + _width(following[0]) > width), (line, following, width)


@pytest.mark.parametrize("text, width, wrapped", [
    ("持续缓解/低疾病活动度", 18, "持续缓解/<br>低疾病活动度"),
    ("持续中/高疾病活动度", 18, "持续中/<br>高疾病活动度"),
    ("Remission/low-disease-activity", 18, "Remission/<br>low-disease-activi<br>ty"),
    ("持续缓解/低疾病活动度", 30, "持续缓解/低疾病活动度"),     # fits: not cut
    ("a/持续缓解低疾病活动度", 18, "a/持续缓解低疾病活<br>动度"),  # "a/" too short a half
])
def test_a_word_too_wide_is_cut_after_a_slash_when_its_first_half_is_not_tiny(text, width,
                                                                               wrapped):
    """Chart labels such as a cluster's "持续缓解/低疾病活动度" (no space to break at) are cut at
    the slash rather than inside a word, when the part before it fills a third of the line."""
    assert wrap_lines(text, width) == wrapped


@pytest.mark.parametrize("text, width, wrapped", [
    ("甲乙 丙丁戊己庚辛", 8, "甲乙 丙<br>丁戊己庚<br>辛"),       # the line filled, as Chinese is set
    ("甲乙 丙，丁戊", 8, "甲乙<br>丙，丁戊"),                  # no line begins with "，"
    ("访视的 DAS28-ESR;有观测", 17, "访视的 DAS28-ESR;<br>有观测"),  # a break beside CJK only
    ("访视的 DAS28-ESR;有观测", 16, "访视的<br>DAS28-ESR;有观测"),   # never inside "DAS28-ESR"
    ("Population: completers and more words", 12,
     "Population:<br>completers<br>and more<br>words"),      # text without CJK as before
])
def test_chinese_text_fills_its_line_and_breaks_only_where_chinese_may(text, width, wrapped):
    """A zh caption's line is not left short before a long word of Chinese (or Chinese with a
    Latin name in it): the word's first characters fill the line, broken beside a CJK
    character and never before closing punctuation."""
    assert wrap_lines(text, width) == wrapped
