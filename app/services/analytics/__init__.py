"""Question and lesson analytics for admins: which questions work, where learners drop out.

Every figure is an SQL aggregate (GROUP BY, COUNT, SUM, ROW_NUMBER and COUNT windows), so
``course_analytics`` runs the same number of queries for 10 learners as for 10,000.
Only accounts with the learner role are counted: admins trying a quiz and counsellors
looking round do not skew the numbers.

Definitions (also shown on the page):

- **Date range** (``RANGES``): the last 30 days, 90 days, 12 months, or all time, counted back
  from when the figures were computed. Answers and choice picks count when the attempt was
  made in the range; first tries when the learner's first attempt at the quiz was; a lesson's
  funnel counts the learners who started it in the range (and follows them to now).
- **Answers**: every answer to the question, over every attempt.
- **First try**: a learner's earliest attempt at the lesson's quiz. % right (facility) and
  discrimination use first tries only, before feedback and retries teach the answer, as
  Moodle's quiz statistics do by default. A learner whose first attempt came before the
  question was added is left out of both.
- **% right** (facility): the share of those first tries that got the question right.
- **Discrimination index**: the Pearson correlation, over first tries, between the score on
  this question (1 right, 0 wrong) and the score on the rest of the quiz (the share of the other
  questions right). It runs from -100% to 100%: high means learners who do well on the rest of
  the quiz also get this one right. It is left out (None, with the reason) when there are fewer
  than two first tries, when the quiz has no other question, or when either score does not vary.
- **Too few to judge**: fewer than ``MIN_ANSWERS_TO_JUDGE`` first tries. The figures are shown
  with that caution and the question is never flagged for review on them (why 30: see the
  constant).
- **Picks**: how often each choice was picked, over every attempt; the share is of all
  answers to the question (a multiple-answer question's shares can add up to over 100%).
- **Funnel**: started = opened the lesson or attempted its quiz; passed = completed the
  lesson; gave up = started, not completed, and no activity on the lesson (opening it or
  attempting its quiz) for ``GAVE_UP_AFTER``.

One concern a module, so that each figure's rule can be read on its own:

- ``date_ranges``: the date ranges, and the bands one scan of the attempts is grouped by;
- ``counted_learners``: whose work is counted (learner accounts only);
- ``question_statistics``: each live question's answers, first tries, % right, picks and
  review flags;
- ``discrimination``: the discrimination index, worked out from the sums SQL aggregated;
- ``drop_out``: each lesson's funnel (started, passed, gave up);
- ``course_report``: one course's report, every live lesson with its funnel and questions, for
  every date range at once;
- ``snapshot_data``: the report as the JSON data a snapshot keeps, and back;
- ``snapshots``: the course's snapshot row, and refreshing it one refresh at a time;
- ``csv_table``: the report's rows for the CSV download;
- ``editor_places``: where each question is in the course's editor now, for the page's links.

The report takes seconds at scale, so it is never computed in a web request: a job or
`flask analytics refresh` keeps its figures in the course's snapshot, which the page reads
(snapshots.py).

Callers import each name from the module that holds it; this package re-exports nothing.
"""
