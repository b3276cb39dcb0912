"""The dashboard's views, described once (see :mod:`.registry`): their controls, their state as a
value (:mod:`.state`) and the figures and tables they show, for the Streamlit renderer, the slide
deck, "Show code" and the command line."""
from .base import (Columns, Control, ControlSlot, Expander, Item, Metrics, Note, Tabs,  # noqa: F401
                   View, plain)
from .registry import (PAGE_KEYS, SAFETY_PAGES, VIEWS, ViewContext, blocks,  # noqa: F401
                       controls_of, default_state, header_lines_of, items, page_items, page_title,
                       state_items, view_for_path)
from .state import (GLOBAL_CONTROLS, AddressError, ViewState, from_query,  # noqa: F401
                    parse_address, resolve)
