"""What a reader sees: number formatting and tables (``formatting``, ``tabular``), the comparison table
(``compare``), charts (``charts``), the HTML report (``report``) and the memory and bench tables. Formatting
never computes: it is handed records."""
