"""Entry point: the page menu in the chosen language, then the page (study overview by default).

Each page draws the global filters itself (dashboard.ui.context), so they are there however the
page is reached."""
import streamlit as st

from analytics.i18n import t
from dashboard import ui
from dashboard.pages import ROOT, existing_pages

lang = ui.current_language()
st.set_page_config(page_title=t("app.page_title", lang), page_icon="🧬", layout="wide")

pages = [st.Page(str(ROOT / script), title=t(title_key, lang), url_path=url,
                 default=(i == 0))
         for i, (script, title_key, url) in enumerate(existing_pages())]
# In the sidebar, all listed: the top bar folds pages into a "more" menu labelled by Streamlit
# in English only.
st.navigation(pages, position="sidebar", expanded=True).run()
