"""The certificate as an Open Badges 3.0 credential (a W3C Verifiable Credential 2.0).

- ``multibase``: the base58btc and base64url encodings the standards write keys and proofs in.
- ``keys``: the site's Ed25519 signing key, read from CREDENTIAL_SIGNING_KEY (made in instance/
  in development), and the issuer's did:web identifier derived from PUBLIC_URL.
- ``contexts``: the JSON-LD contexts, bundled (no network when signing).
- ``proof``: the Data Integrity proof, cryptosuite eddsa-rdfc-2022 (RDFC-1.0 canonical N-Quads,
  SHA-256, Ed25519).
- ``status_list``: the Bitstring Status List that says which certificates are revoked.
- ``documents``: the credential, the status list credential and the DID document, as served.
- ``routes``: the public documents (``/.well-known/did.json``, ``/credentials/status/<n>``).
"""
