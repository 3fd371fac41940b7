// An independent verifier for the site's Open Badges 3.0 credentials, on the Digital Credentials
// Consortium's stack (@digitalcredentials/vc, the eddsa-rdfc-2022 cryptosuite, Bitstring Status
// List). It shares no code with the Python signer: its own JSON-LD contexts, canonicalisation,
// key decoding and signature check.
//
// Usage: node verify.mjs CREDENTIAL.json WEB.json [CREDENTIAL.json WEB.json ...]
//   WEB.json maps https?:// URLs to the documents the site serves there, fetched by the test over
//   HTTP: the run is offline, and this file stands in for the network. did:web identifiers are
//   resolved as the did:web method says (did:web:<host> -> https://<host>/.well-known/did.json).
//   Several pairs are checked one after the other, each with only its own WEB.json: one start-up
//   of node and its packages (most of a check's second) for all of them.
// Prints {"verified": bool, "log": [...], "errors": [...]} a line per pair and exits 0 only when
// every one verified.
import {readFileSync} from 'node:fs';
import * as vc from '@digitalcredentials/vc';
import {securityLoader} from '@digitalcredentials/security-document-loader';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalcredentials/vc-bitstring-status-list';

function didWebUrl(did) {
  // did:web:example.org%3A8443:path -> https://example.org:8443/path/did.json
  const [host, ...path] = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  return path.length ? `https://${host}/${path.join('/')}/did.json` : `https://${host}/.well-known/did.json`;
}

const contexts = securityLoader().build();

async function verify(credentialPath, webPath) {
  const credential = JSON.parse(readFileSync(credentialPath, 'utf8'));
  const web = JSON.parse(readFileSync(webPath, 'utf8'));

  function fromWeb(url) {
    if(!(url in web)) {
      throw new Error(`NotFoundError: ${url} (not served)`);
    }
    return web[url];
  }

  async function documentLoader(url) {
    if(url.startsWith('did:web:')) {
      const [did, fragment] = url.split('#');
      const didDocument = fromWeb(didWebUrl(did));
      if(didDocument.id !== did) {
        throw new Error(`the DID document at ${didWebUrl(did)} is for ${didDocument.id}, not ${did}`);
      }
      if(!fragment) {
        return {contextUrl: null, documentUrl: url, document: didDocument};
      }
      const method = (didDocument.verificationMethod || []).find(
        m => m.id === url || m.id === `#${fragment}`);
      if(!method) {
        throw new Error(`NotFoundError: ${url} is not in its DID document`);
      }
      return {
        contextUrl: null,
        documentUrl: url,
        document: {'@context': didDocument['@context'], ...method}
      };
    }
    if(/^https?:\/\//.test(url) && url in web) {
      return {contextUrl: null, documentUrl: url, document: fromWeb(url)};
    }
    return contexts(url);
  }

  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
  const result = await vc.verifyCredential({credential, suite, documentLoader, checkStatus});

  const errors = [];
  const collect = error => {
    if(!error) {
      return;
    }
    for(const e of (error.errors || [error])) {
      errors.push(String(e.message || e));
      if(e.cause) {
        collect(e.cause);
      }
    }
  };
  collect(result.error);
  for(const r of result.results || []) {
    collect(r.error);
  }
  if(result.statusResult?.error) {
    collect(result.statusResult.error);
  }
  process.stdout.write(JSON.stringify({verified: result.verified, log: result.log || [], errors}) + '\n');
  return result.verified;
}

const paths = process.argv.slice(2);
let all = true;
for(let i = 0; i < paths.length; i += 2) {
  all = (await verify(paths[i], paths[i + 1])) && all;
}
process.exit(all ? 0 : 1);
