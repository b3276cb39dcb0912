"""Entry point: global filters in the sidebar, then the chosen page (study overview by default)."""
import streamlit as st

from analytics.i18n import t
from dashboard import ui
from dashboard.pages import ROOT, existing_pages

st.set_page_config(page_title="MSC ± IFN-γ in RA", page_icon="🧬", layout="wide")

ctx = ui.sidebar()
pages = [st.Page(str(ROOT / script), title=t(title_key, ctx.lang), url_path=url,
                 default=(i == 0))
         for i, (script, title_key, url) in enumerate(existing_pages())]
st.navigation(pages, position="top").run()
