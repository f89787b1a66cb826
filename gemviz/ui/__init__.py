"""The dashboard's Streamlit layer: cached wrappers (:mod:`.cache`), URL and session state
(:mod:`.state`), shared widgets (:mod:`.widgets`) and the page preamble (:mod:`.page`).

The only Streamlit code in the package; everything below it is plain Python.
"""
