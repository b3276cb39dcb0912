"""Entry point: the page menu in the chosen language, then the page (study overview by default).

Each page draws the global filters itself (dashboard.render), so they are there however the
page is reached. An address that names no page gets a message in the chosen language with the
list of pages, above the default page. With login configured, a visitor not logged in gets the
login screen and nothing else (dashboard.access)."""
import streamlit as st

from analytics.i18n import t
from dashboard import access, ui, url_state
from dashboard.pages import ROOT, existing_pages

lang = ui.current_language()
st.set_page_config(page_title=t("app.page_title", lang), page_icon="🧬", layout="wide")
access.require_login(lang)  # before the menu and any study data

pages = [st.Page(str(ROOT / script), title=t(title_key, lang), url_path=url,
                 default=(i == 0))
         for i, (script, title_key, url) in enumerate(existing_pages())]
# In the sidebar, all listed: the top bar folds pages into a "more" menu labelled by Streamlit
# in English only.
navigation = st.navigation(pages, position="sidebar", expanded=True)

requested = url_state.requested_path()
if requested and requested not in {url for _, _, url in existing_pages()}:
    st.error(t("app.not_found", lang, path=requested))
    with st.container(border=True):
        for page in pages:
            st.page_link(page, label=page.title)
navigation.run()
