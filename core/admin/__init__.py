"""The municipality's side: organisations, Alliance, staff invitations, suspension, news.

Plain functions over ``db.session``; each admin action writes its audit row in the caller's
transaction. Only :func:`suspend` commits (the booking engine's cancellations commit).
"""
