"""Reading a slide deck back (python-pptx) for the deck tests."""
from __future__ import annotations


def slide_texts(slide) -> list[str]:
    """The text of every text box and table cell of a slide."""
    out = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            out.append(shape.text_frame.text)
        if shape.has_table:
            out += [cell.text for row in shape.table.rows for cell in row.cells]
    return out


def slide_runs(slide):
    """(shape, run, in a table?) for every text run of a slide."""
    for shape in slide.shapes:
        frames = [(shape.text_frame, False)] if shape.has_text_frame else []
        if shape.has_table:
            frames += [(c.text_frame, True) for r in shape.table.rows for c in r.cells]
        for frame, in_table in frames:
            for para in frame.paragraphs:
                for run in para.runs:
                    yield shape, run, in_table
