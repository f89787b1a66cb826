"""What a study shows: ID/OOD tables, Venn regions and drill-downs, slices, stability,
the sample table, a step explained, nearest train steps, embedding maps, detection metrics.

Every function takes a :class:`gemviz.data.study.Study` (or arrays) and returns frames with
fixed column names; nothing here draws or imports Streamlit.
"""
