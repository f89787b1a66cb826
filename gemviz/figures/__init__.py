"""Every chart and picture, in one theme: Plotly builders for the pages and their
matplotlib twins for the report and downloads (:mod:`.theme` holds the palette and template).
"""
