"""The catalogue's business rules, as plain functions over a SQLAlchemy session.

- :mod:`core.catalogue.queries`: what the public pages, the provider area and the admin queue
  read (each page in a constant number of SQL statements);
- :mod:`core.catalogue.services`: creating and editing services, their opening hours and
  closures, and the status transitions (publish, withdraw, approve, send back);
- :mod:`core.catalogue.money`: euros typed by a person to cents and back;
- :mod:`core.catalogue.search`: the normalised ``Service.search_text`` and the sort titles the
  catalogue is ordered by, kept up to date on flush;
- :mod:`core.catalogue.describe`: booking rules and opening hours in plain words;
- :mod:`core.catalogue.events`: the integration point with the booking engine.

Nothing here reads the Flask request.
"""
