"""The LTI 1.3 tool: an LMS (Moodle, Canvas, ...) opens the course for its learners, signs them in
here, and takes their scores into its gradebook.

Built on PyJWT (RS256 with ``cryptography``) rather than pylti1p3next. pylti1p3next 2.0.2 installs
beside this Flask, but it keeps the OIDC state and nonce in the Flask session and a cache, which a
platform's cross-site POST into an iframe does not carry, and its tool configuration is a JSON
file or a dict; here the state and nonce are rows (``lti_launch_states``), used once, so any app
process can take the launch, and the registrations are rows an admin edits.

One concern a module, so that the launch's checks can be read apart from the admin's forms and
the accounts they lead to:

- ``claims``: the standard's names (claim URIs, message types, the score scope) every part reads;
- ``refusals``: the error a refused login or launch raises, and the warning it logs;
- ``keys``: the tool's own signing key, its published key set, and where the key comes from;
- ``platforms``: registering, changing and removing the LMS platforms an admin trusts, and the
  rule their addresses follow;
- ``login``: the OIDC login initiation, which records the state and nonce a launch must answer;
- ``launch``: checking a launch, every check the standard asks for, and what it opens;
- ``claim_checks``: the JSON types of the claims a launch reads, checked before it reads them;
- ``framing``: the platform origins that may frame a launch's pages or take its picker's answer;
- ``identities``: the accounts launches sign in to (one per platform user), and what the personal
  data download says of them;
- ``grade_targets``: the line items a launch names, where its scores go (app/jobs/lti.py sends them);
- ``deep_linking``: what the instructor's picker offers, and the signed answer that places links.

Callers import each name from the module that holds it; this package re-exports nothing.
"""
