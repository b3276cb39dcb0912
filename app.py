"""Entry point: the page menu in the chosen language, then the page (study overview by default).

The pages come from the view registry (dashboard.pages); each draws the global filters itself
(dashboard.render), so they are there however the page is reached. An address that names no
page gets a message in the chosen language with the list of pages, above the default page. With login configured, a visitor not logged in gets the
login screen and nothing else (dashboard.access)."""
import streamlit as st

from analytics.i18n import t
from dashboard import access, url_state
from dashboard.pages import navigation_pages

lang = url_state.current_language()
st.set_page_config(page_title=t("app.page_title", lang), page_icon="🧬", layout="wide")
access.require_login(lang)  # before the menu and any study data

# In the sidebar, all listed: the top bar folds pages into a "more" menu labelled by Streamlit
# in English only.
navigation = st.navigation(navigation_pages(lang, url_state.requested_path()),
                           position="sidebar", expanded=True)
navigation.run()
