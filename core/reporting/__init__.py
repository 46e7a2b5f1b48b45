"""District reports: figures as SQL aggregates, SVG charts, CSV and open-data exports."""
