// Independent verification of Skillproof credentials with Digital Bazaar's JavaScript stack.
//
//   node verify.mjs verify INPUT.json   INPUT: {"credential", "didDocument", "contextFiles": {url: path}},
//                                       and "statusList" (its BitstringStatusListCredential) when it has a status
//   node verify.mjs sign INPUT.json     INPUT: {"credential", "did", "contextFiles"}; signs with a new key
//   node verify.mjs status INPUT.json   INPUT: {"credential", "didDocument", "statusList", "contextFiles"};
//                                       checks the revocation bit with @digitalbazaar/vc-bitstring-status-list
//
// Prints one JSON object. Documents are served only from the given files and the given DID document: any other
// URL is refused, as the app's own loader does, so nothing is fetched.
import {readFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';

function staticLoader(contextFiles, didDocument, extra = {}) {
  const documents = new Map(
    Object.entries(contextFiles).map(([url, path]) => [url, JSON.parse(readFileSync(path, 'utf8'))]));
  for(const [url, document] of Object.entries(extra)) {
    documents.set(url, document);
  }
  return async url => {
    let document = documents.get(url);
    if(!document && didDocument && url.split('#')[0] === didDocument.id) {
      if(url === didDocument.id) {
        document = didDocument;
      } else {
        const method = didDocument.verificationMethod.find(m => m.id === url);
        document = method && {'@context': MULTIKEY_V1, ...method};
      }
    }
    if(!document) {
      throw new Error(`unknown context: ${url}`);
    }
    return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
  };
}

async function verify({credential, didDocument, statusList, contextFiles}) {
  const result = await vc.verifyCredential({
    credential,
    suite: new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite}),
    documentLoader: staticLoader(contextFiles, didDocument, statusList ? {[statusList.id]: statusList} : {}),
    // A credential with credentialStatus is verified only with its status checked (given statusList).
    ...(statusList && {checkStatus})
  });
  const errors = [result.error, ...(result.results || []).map(r => r.error)]
    .filter(Boolean).flatMap(e => e.errors || [e]).map(e => e.message);
  if(!statusList) {
    return {verified: result.verified, errors};
  }
  // vc's `verified` says the status could be checked; whether the bit is set is the status result's `status`.
  const revoked = (result.statusResult?.results || []).some(r => r.status === true);
  return {verified: result.verified, revoked, errors};
}

async function sign({credential, did, contextFiles}) {
  const key = await Ed25519Multikey.generate({controller: did});
  key.id = `${did}#${key.publicKeyMultibase}`;
  const signed = await vc.issue({
    credential,
    suite: new DataIntegrityProof({signer: key.signer(), cryptosuite: eddsaRdfc2022CryptoSuite}),
    documentLoader: staticLoader(contextFiles, null)
  });
  return {credential: signed, publicKeyMultibase: key.publicKeyMultibase};
}

// The status list credential is served at its own id; its proof is verified and its issuer must match.
async function status({credential, didDocument, statusList, contextFiles}) {
  const result = await checkStatus({
    credential,
    suite: new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite}),
    documentLoader: staticLoader(contextFiles, didDocument, {[statusList.id]: statusList}),
    verifyBitstringStatusListCredential: true,
    verifyMatchingIssuers: true
  });
  const errors = [result.error, ...(result.results || []).map(r => r.error)].filter(Boolean).map(e => e.message);
  const revoked = (result.results || []).some(r => r.credentialStatus?.statusPurpose === 'revocation' && r.status);
  return {verified: result.verified, revoked, errors};
}

const [action, inputPath] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputPath, 'utf8'));
const actions = {verify, sign, status};
if(!actions[action]) {
  console.error('usage: node verify.mjs verify|sign|status INPUT.json');
  process.exit(2);
}
try {
  console.log(JSON.stringify(await actions[action](input)));
} catch(error) {
  console.log(JSON.stringify({verified: false, errors: [error.message]}));
}
