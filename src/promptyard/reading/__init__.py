"""Reading results: compare, traces, analytics, charts and reports."""
