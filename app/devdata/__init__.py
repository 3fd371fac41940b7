"""Synthetic data for development and benchmarks: the demo accounts (``flask demo``) and a
seeded population at scale (``flask seed``). Nothing here is a business rule: every rule the
data follows (passing a quiz, the order choices are shown in, an invitation's lifetime) is
imported from ``app.services``, so seeded rows are what real use would have written.

- ``shape``: a course's live lessons, each question's stored version as shown, and every answer
  a learner can give, prepared once;
- ``rows``: rows keyed by column name, written in bulk (COPY on PostgreSQL, executemany elsewhere);
- ``history``: a learner's planned history turned into attempts, answers and progress rows;
- ``planner``: how seeded learners behave (drop-off, failed attempts, gaps between visits);
- ``people``: seeded accounts, counsellor links, invitations and views of client pages;
- ``population``: ``seed_population``, N learners with all of the above;
- ``demo``: the demo admin, counsellor and clients, in one transaction;
- ``cli``: the ``flask seed`` command.
"""
